"""A stand-in for `python -m stockml` in worker tests, driven by its `key=value` arguments.

sleep=SECONDS   run this long first
exit=CODE       exit status (default 0)
stderr=TEXT     write this line to stderr
marker=PATH     append "<STOCKML_JOB_ID> <pid>" to this file on start (proves it started)
Any other argument (e.g. a kind's injected override) is ignored.
"""

import os
import sys
import time

args = dict(arg.split("=", 1) for arg in sys.argv[1:] if "=" in arg)
if "marker" in args:
    with open(args["marker"], "a") as marker:
        marker.write(f"{os.environ.get('STOCKML_JOB_ID')} {os.getpid()}\n")
time.sleep(float(args.get("sleep", 0)))
if "stderr" in args:
    print(args["stderr"], file=sys.stderr)
sys.exit(int(args.get("exit", 0)))
