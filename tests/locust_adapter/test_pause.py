"""Between tasks a loadgen user yields to the hub every YIELD_EVERY-th time, not after each
task as Locust does (a request yields while it waits for its reply anyway): checked with a
fake sleep, and in a real Locust run (a subprocess: importing Locust would monkey-patch this
test process) whose task never yields, against a greenlet that counts the turns the hub gives it."""
import json
import subprocess
import sys

from conftest import ROOT
from loadgen.locust_adapter.pause import YIELD_EVERY, Pause


def test_a_pause_of_zero_yields_every_nth_time_and_a_real_wait_always_sleeps():
    slept = []
    pause = Pause(every=4, sleep=slept.append)
    for _ in range(12):
        pause(0)
    assert slept == [0, 0, 0]
    pause(0)
    pause(0.5)  # a wait_time > 0 is a wait, and starts the count again
    assert slept == [0, 0, 0, 0.5]
    for _ in range(3):
        pause(0)
    assert slept == [0, 0, 0, 0.5]
    pause(0)
    assert slept == [0, 0, 0, 0.5, 0]


_RUN = """
import json, sys
from locust import User, constant, task
from locust.env import Environment
import gevent
from loadgen.locust_adapter.pause import pause_between_tasks

done, turns = [], []

class Spinner(User):
    '''A task that never yields by itself (a reply that is there before it is asked for).'''
    wait_time = constant(0)

    def on_start(self):
        if sys.argv[1] == "loadgen":
            pause_between_tasks(self)

    @task
    def spin(self):
        done.append(1)

def watch():
    while True:
        turns.append(len(done))
        gevent.sleep(0)

runner = Environment(user_classes=[Spinner]).create_local_runner()
watcher = gevent.spawn(watch)
runner.start(1, spawn_rate=100)
gevent.sleep(0.3)
runner.quit()
watcher.kill()
print(json.dumps({"tasks": len(done), "steps": sorted({b - a for a, b in zip(turns, turns[1:]) if a > 0})}))
"""


def _spin(mode):
    proc = subprocess.run([sys.executable, "-c", _RUN, mode], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.splitlines()[-1])


def test_a_user_whose_tasks_never_yield_still_gives_the_hub_a_turn_every_nth_task():
    loadgen, locust = _spin("loadgen"), _spin("locust")
    assert loadgen["tasks"] > 10 * YIELD_EVERY and loadgen["steps"] in ([YIELD_EVERY], [0, YIELD_EVERY]), loadgen
    assert locust["steps"] in ([1], [0, 1]), locust  # Locust's own: a turn after every task
