"""Workers: a real RQ worker for production and an in-process thread when embedded."""

from __future__ import annotations

import logging
import os
import threading

from flask import Flask
from rq import SimpleWorker, Worker
from rq.timeouts import TimerDeathPenalty

from console.extensions import db
from jobs.queue import DEFAULT_QUEUE, connection, queue, reconcile

log = logging.getLogger(__name__)


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


def run_worker(app: Flask, queues: list[str], *, with_scheduler: bool, burst: bool) -> None:
    """Reconcile job runs with Redis, then work the queues until stopped."""
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
    worker = Worker([queue(name, app) for name in names], connection=connection(app))
    worker.work(with_scheduler=with_scheduler, burst=burst, logging_level="INFO")


def _forget_pool(app: Flask) -> None:
    with app.app_context():
        db.engine.dispose(close=False)


def drain(app: Flask) -> None:
    """Run every queued job to the end in this thread (tests and one-off commands)."""
    ThreadWorker([queue(app=app)], connection=connection(app)).work(burst=True)
