"""Workers: a real RQ worker for production and an in-process thread when embedded."""

from __future__ import annotations

import contextlib
import logging
import os
import random
import signal
import threading
import time
from collections.abc import Callable, Iterator
from types import FrameType

import redis
from flask import Flask
from rq import SimpleWorker, Worker
from rq.timeouts import TimerDeathPenalty

from console.extensions import db
from jobs.queue import DEFAULT_QUEUE, connection, queue, reconcile

log = logging.getLogger(__name__)
RECONNECT_FIRST_SECONDS = 0.5
RECONNECT_MAX_SECONDS = 15.0
# A work loop that ran this long before it ended was healthy: waits start short again.
HEALTHY_RUN_SECONDS = 60.0


class ThreadWorker(SimpleWorker):
    """A worker that runs jobs in the thread it lives in (signals work only in main)."""

    death_penalty_class = TimerDeathPenalty

    def _install_signal_handlers(self) -> None:  # noqa: D102 - nothing to install off main
        pass


def start_embedded_worker(app: Flask) -> None:
    """Start the in-process worker thread once, on the first job queued."""
    with app.extensions["console.worker_lock"]:
        if app.extensions.get("console.worker_thread"):
            return
        thread = threading.Thread(
            target=_embedded_loop, args=(app,), name="console-worker", daemon=True
        )
        app.extensions["console.worker_thread"] = thread
        thread.start()


def _embedded_loop(app: Flask) -> None:
    with app.app_context():
        worker = ThreadWorker([queue(app=app)], connection=connection(app))
        worker.work(logging_level="WARNING")


def install_embedded_worker(app: Flask) -> None:
    """Arrange for an embedded worker thread that starts with the first queued job."""
    app.extensions["console.worker_lock"] = threading.Lock()
    app.extensions["console.start_embedded_worker"] = lambda: start_embedded_worker(app)


class ConsoleWorker(Worker):
    """RQ's forking worker, remembering whether a person or a supervisor asked it to stop."""

    stop_requested = False

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        """Warm shutdown; with Redis away, stop without asking Redis what we are doing."""
        self.stop_requested = True
        try:
            super().request_stop(signum, frame)
        except redis.RedisError as exc:
            # Not StopRequested: RQ's dequeue retries Redis without looking at its stop
            # flag, and a signal that lands in its log call has an Exception swallowed
            # by the logging handler, so the worker would retry forever.
            raise SystemExit(0) from exc

    def teardown(self) -> None:
        """RQ's teardown, which also stops the command listener when Redis is away."""
        try:
            super().teardown()
        finally:
            if not self.is_horse:
                self.unsubscribe()

    def unsubscribe(self) -> None:
        """Stop listening for RQ's commands, in a second at most and with Redis away
        too: a listener left behind would retry Redis for the life of the process."""
        thread, self.pubsub_thread = self.pubsub_thread, None
        if thread is None:
            return
        with contextlib.suppress(redis.RedisError):
            self.pubsub.unsubscribe()
        try:
            # redis-py 8 waits for the listener, which may be in its 60 s poll.
            thread.stop(timeout=1)
        except TypeError:  # redis-py before 8 stops without waiting
            thread.stop()
        with contextlib.suppress(redis.RedisError):
            self.pubsub.close()


def reconnect_delays(
    first: float = RECONNECT_FIRST_SECONDS,
    cap: float = RECONNECT_MAX_SECONDS,
    rand: Callable[[], float] = random.random,
) -> Iterator[float]:
    """Waits before each try to reach Redis again: doubling from `first` up to `cap`,
    each between half and all of its step so that workers do not retry in step."""
    step = first
    while True:
        yield step * (0.5 + 0.5 * rand())
        step = min(cap, step * 2)


def run_worker(app: Flask, queues: list[str], *, with_scheduler: bool, burst: bool) -> None:
    """Reconcile job runs with Redis, then work the queues until stopped, riding out
    Redis outages: RQ ends its work loop when it loses Redis mid-job, and this starts
    a fresh one once Redis answers again instead of letting the process exit."""
    counts = reconcile(db.session, app)
    log.warning("Job runs reconciled: %(requeued)s requeued, %(failed)s marked failed", counts)
    db.session.remove()
    db.engine.dispose()  # forked work horses must not share the parent's connections
    # The ticker thread keeps connections in this process; a forked horse drops its
    # copies of them without closing them under the parent.
    os.register_at_fork(after_in_child=lambda: _forget_pool(app))
    if with_scheduler:
        from jobs.sending import start_ticker

        start_ticker(app)
    names = queues or [DEFAULT_QUEUE]
    stop = threading.Event()
    delays = reconnect_delays()
    while True:
        worker = ConsoleWorker([queue(name, app) for name in names], connection=connection(app))
        began = time.monotonic()
        try:
            worker.work(with_scheduler=with_scheduler, burst=burst, logging_level="INFO")
            if burst or worker.stop_requested:
                return
            log.warning("Worker %s: the work loop ended (Redis lost?); starting again", worker.name)
        except redis.RedisError as exc:  # raised where RQ does not catch it (start, teardown)
            if worker.stop_requested:
                return
            log.warning("Worker %s: Redis failed (%s); starting again", worker.name, exc)
        _let_horse_finish(worker)
        _stop_on_signals(stop)
        if worker.stop_requested:  # asked just before our handlers took over
            return
        if time.monotonic() - began > HEALTHY_RUN_SECONDS:
            delays = reconnect_delays()
        if not wait_for_redis(connection(app), stop, delays):
            return


def wait_for_redis(conn: redis.Redis, stop: threading.Event, delays: Iterator[float]) -> bool:
    """Wait out each delay, then ping Redis, until it answers (True) or `stop` (False)."""
    for attempt, delay in enumerate(delays, start=1):
        if stop.wait(delay):
            return False
        try:
            conn.ping()
            log.warning("Redis answers again (try %s); the worker goes on", attempt)
            return True
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            log.warning("Redis does not answer (try %s: %s)", attempt, exc)
    return False


def _let_horse_finish(worker: Worker) -> None:
    """A work horse left running goes on with its job, whose outcome it writes to the
    database; reap it when it ends so it does not linger as a zombie."""
    pid = worker.horse_pid
    if not pid:
        return

    def reap() -> None:
        with contextlib.suppress(ChildProcessError):  # RQ reaped it already
            os.waitpid(pid, 0)

    threading.Thread(target=reap, name=f"reap-horse-{pid}", daemon=True).start()


def _stop_on_signals(stop: threading.Event) -> None:
    """Between work loops, SIGTERM and SIGINT stop the worker (RQ's handlers would ask
    the missing Redis first)."""
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())


def _forget_pool(app: Flask) -> None:
    with app.app_context():
        db.engine.dispose(close=False)


def drain(app: Flask) -> None:
    """Run every queued job to the end in this thread (tests and one-off commands)."""
    ThreadWorker([queue(app=app)], connection=connection(app)).work(burst=True)
