"""Between tasks a loadgen user yields to the hub every YIELD_EVERY-th time, not after each
task as Locust does (a request yields while it waits for its reply anyway): checked with a
fake sleep, and in a real Locust run whose task never yields, against a greenlet that counts
the turns the hub gives it."""
import gevent
from locust import User, constant, task
from locust.env import Environment

from loadgen.locust_adapter.users import YIELD_EVERY, Pause, pause_between_tasks


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


done: list[int] = []


class Spinner(User):
    """A task that never yields by itself (a reply that is there before it is asked for)."""

    wait_time = constant(0)

    def on_start(self):
        pause_between_tasks(self)

    @task
    def spin(self):
        done.append(1)


def test_a_user_whose_tasks_never_yield_still_gives_the_hub_a_turn_every_nth_task():
    done.clear()
    turns = []

    def watch():
        while True:
            turns.append(len(done))
            gevent.sleep(0)

    env = Environment(user_classes=[Spinner])
    runner = env.create_local_runner()
    watcher = gevent.spawn(watch)
    runner.start(1, spawn_rate=100)
    gevent.sleep(0.3)
    runner.quit()
    watcher.kill()
    steps = {b - a for a, b in zip(turns, turns[1:]) if a > 0}  # once the user runs
    assert len(done) > 10 * YIELD_EVERY and steps <= {0, YIELD_EVERY}, (len(done), sorted(steps))
    assert YIELD_EVERY in steps
