"""The RQ entry point every job run goes through."""

from __future__ import annotations

import contextlib

import redis
from flask import Flask, current_app, has_app_context
from rq import get_current_job

from console.extensions import db
from console.models import JobRun
from console.services import jobruns
from jobs.kinds import JOB_KINDS

_worker_app: Flask | None = None


def _app() -> Flask:
    """The app of the worker that runs the job, made once per process when there is none."""
    global _worker_app
    if has_app_context():
        return current_app._get_current_object()
    if _worker_app is None:
        from console import create_app

        _worker_app = create_app()
    return _worker_app


def _save_meta(run: JobRun) -> None:
    job = get_current_job()
    if job is not None:
        job.meta.update(done=run.progress_done, total=run.progress_total, counts=run.counts)
        # The row already holds the progress; a job goes on through a Redis outage.
        with contextlib.suppress(redis.RedisError):
            job.save_meta()


def execute(run_id: int) -> str:
    """Claim job run `run_id`, do its work and record the outcome.

    A run that is not queued (already claimed, finished) is left alone, so a job
    delivered twice does its work once. A failure is recorded on the row and re-raised
    so RQ keeps it in its failed registry too.
    """
    with _app().app_context():
        session = db.session
        try:
            run = jobruns.claim_run(session, run_id)
            if run is None:
                return "not queued; skipped"
            try:
                kind = JOB_KINDS[run.kind]
                message = kind.run(session, run, jobruns.Progress(session, run, _save_meta))
                jobruns.finish_run(session, run, message)
                return message
            except jobruns.JobCancelled as stop:
                session.rollback()
                jobruns.cancel_run(session, session.get(JobRun, run_id), str(stop))
                return f"cancelled: {stop}"
            except Exception as exc:
                jobruns.fail_run(session, run_id, exc)
                raise
        finally:
            session.remove()
