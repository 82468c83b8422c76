"""The model lifecycle after a run: reproduce it, retrain it, register, promote, predict.

Each step starts from what a run recorded (its config snapshot, its logged model and the
metadata carried by that model), never from today's defaults, so that months later the same
run id still means the same experiment.
"""
