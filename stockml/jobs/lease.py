"""A run's own lease on its job row: kept alive while the run lives, and how a cancel stops it.

Runs started by hand and sweep trials own their rows (a worker's job has the worker's lease
instead); `stockml-jobs cancel ID` only marks the row, so it is the run's lease thread that
notices and stops the run.
"""

from __future__ import annotations

import ctypes
import signal
import threading

from stockml.errors import StockmlError
from stockml.jobs import queue
from stockml.jobs.db import Store

# Sent by the lease thread to the run's (main) thread when a cancel is requested; its handler
# raises RunCancelled there, which also wakes a run blocked in a sleep or a read.
CANCEL_SIGNAL = signal.SIGUSR1
# Renewals double as the cancel check, so a long lease still stops a cancelled run promptly.
CANCEL_POLL_SECONDS = 5.0


class RunCancelled(StockmlError):
    """Raised inside a run whose row was cancelled (`stockml-jobs cancel ID`)."""

    def __init__(self) -> None:
        super().__init__("run cancelled (stockml-jobs cancel)")


class RunLease:
    """Keeps a run's own row alive, and stops the run when its row is cancelled.

    A daemon thread renews the lease; a run killed outright (SIGKILL, Ctrl-C before Hydra's
    end callback) stops renewing, its lease expires, and the queue's usual recovery marks the
    row failed instead of leaving it "running" for ever. When a renewal finds a cancel
    request, the thread interrupts the run: CANCEL_SIGNAL to the main thread (whose handler
    raises RunCancelled), or an asynchronous RunCancelled when the run is not on the main
    thread. Either way the run ends through Hydra's usual failure path and its end callback
    records the row as cancelled.
    """

    def __init__(self, store: Store, row_id: int, worker_id: str, seconds: float) -> None:
        self.cancelled = threading.Event()
        self._stop = threading.Event()
        self._run_thread = threading.current_thread()
        self._uses_signal = self._run_thread is threading.main_thread()
        if self._uses_signal:
            self._previous_handler = signal.signal(CANCEL_SIGNAL, self._on_cancel_signal)
        self._thread = threading.Thread(
            target=self._renew, args=(store, row_id, worker_id, seconds), daemon=True
        )
        self._thread.start()

    def _renew(self, store: Store, row_id: int, worker_id: str, seconds: float) -> None:
        while not self._stop.wait(min(seconds / 4, CANCEL_POLL_SECONDS)):
            try:
                beat = queue.heartbeat(store, row_id, worker_id, seconds)
            except Exception:  # a store hiccup must not kill the run; the next beat retries
                continue
            if beat is queue.Beat.CANCEL:
                self.cancelled.set()
                self._interrupt_run()
            if beat is not queue.Beat.RENEWED:  # cancelled, or the row is no longer ours
                return

    def _interrupt_run(self) -> None:
        if self._stop.is_set():
            return
        thread_id = self._run_thread.ident
        assert thread_id is not None
        if self._uses_signal:
            signal.pthread_kill(thread_id, CANCEL_SIGNAL)
        else:
            ctypes.pythonapi.PyThreadState_SetAsyncExc(
                ctypes.c_ulong(thread_id), ctypes.py_object(RunCancelled)
            )

    def _on_cancel_signal(self, _signum: int, _frame: object) -> None:
        if not self._stop.is_set():  # after stop() the run has ended: nothing left to cancel
            raise RunCancelled()

    def stop(self) -> None:
        """End the lease; called on the run's thread when the run has ended."""
        self._stop.set()
        self._thread.join(timeout=5)
        if self._uses_signal:
            signal.signal(CANCEL_SIGNAL, self._previous_handler)
        elif self.cancelled.is_set() and self._run_thread.ident is not None:
            # An interrupt sent as the run ended must not surface in whatever runs next.
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self._run_thread.ident), None)
