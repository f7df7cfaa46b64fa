"""The one place that makes Redis connections and queues, and puts job runs on them."""

from __future__ import annotations

import fakeredis
from flask import Flask, current_app
from redis import Redis
from redis.exceptions import WatchError
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy.orm import Session

from console.extensions import db
from console.models import JobRun
from console.services import jobruns, lua
from jobs.kinds import JOB_KINDS

DEFAULT_QUEUE = "default"
JOB_TIMEOUT_SECONDS = 2 * 60 * 60
RESULT_TTL_SECONDS = 24 * 60 * 60
FAILURE_TTL_SECONDS = 7 * 24 * 60 * 60
WORKER_GONE = "The worker stopped before this job finished. Retry it to run it again."


def connection(app: Flask | None = None) -> Redis:
    """The app's Redis: the real one at REDIS_URL, or an in-process fake one embedded."""
    app = app or current_app._get_current_object()
    conn = app.extensions.get("console.redis")
    if conn is None:
        url = app.config.get("REDIS_URL")
        if url:
            conn = Redis.from_url(url)
        else:
            conn = fakeredis.FakeStrictRedis(server=fakeredis.FakeServer())
        app.extensions["console.redis"] = conn
    return conn


# Compare-and-delete in one step: the key goes only while it still holds its owner's token.
RELEASE_LOCK_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def release_lock(conn: Redis, key: str, token: str) -> bool:
    """Delete the lock `key` only if it still holds `token`; True if it did.

    A job that outlived its lock (the key expired and another job took it) must not
    free the new owner's lock. Lua where Redis runs it, WATCH/MULTI where it does not
    (fakeredis without lupa, embedded).
    """
    answer = lua.run(conn, RELEASE_LOCK_LUA, [key], [token])
    if answer is not lua.NO_LUA:
        return bool(answer)
    with conn.pipeline() as pipe:
        try:
            pipe.watch(key)
            if pipe.get(key) not in (token, token.encode()):
                pipe.unwatch()
                return False
            pipe.multi()
            pipe.delete(key)
            return bool(pipe.execute()[0])
        except WatchError:  # the key changed meanwhile: it is someone else's now
            return False


def queue(name: str = DEFAULT_QUEUE, app: Flask | None = None) -> Queue:
    """An RQ queue on the app's Redis."""
    return Queue(name, connection=connection(app))


def start(
    *, kind: str, title: str, team_id: int, started_by_id: int | None, params: dict | None = None
) -> JobRun:
    """Record a new job run and put it on the queue."""
    run = jobruns.create_run(
        db.session,
        team_id=team_id,
        kind=kind,
        title=title,
        params=params,
        started_by_id=started_by_id,
    )
    db.session.commit()
    enqueue(run)
    return run


def start_skiptrace_pass(trace_run, started_by_id: int | None) -> JobRun:
    """Start the job that works a skip-trace pass, and tie the pass to it."""
    job = start(
        kind="skiptrace_pass",
        title=f"Skip trace #{trace_run.id}",
        team_id=trace_run.team_id,
        started_by_id=started_by_id,
        params={"skiptrace_run_id": trace_run.id},
    )
    trace_run.job_run_id = job.id
    db.session.commit()
    return job


def retry(run: JobRun) -> None:
    """Queue a failed run again."""
    jobruns.requeue_run(db.session, run)
    enqueue(run)


def enqueue(run: JobRun, app: Flask | None = None) -> None:
    """Put a queued run on RQ and remember its RQ job id."""
    app = app or current_app._get_current_object()
    job = queue(app=app).enqueue(
        "jobs.runner.execute",
        run.id,
        job_timeout=JOB_TIMEOUT_SECONDS,
        result_ttl=RESULT_TTL_SECONDS,
        failure_ttl=FAILURE_TTL_SECONDS,
        description=f"{run.kind} #{run.id}",
    )
    run.rq_job_id = job.id
    db.session.commit()
    starter = app.extensions.get("console.start_embedded_worker")
    if starter is not None:
        starter()


def reconcile(
    session: Session, app: Flask | None = None, *, requeue_only: bool = False
) -> dict[str, int]:
    """Match the job_runs table against Redis after a start or a lost Redis.

    Queued runs whose RQ job is gone are queued again (jobs are idempotent); running
    runs whose RQ job is gone or dead are marked failed, so a person can retry them,
    unless `requeue_only` (while workers run: a running job's work horse may outlive
    the Redis that knew it, and records its own outcome).
    """
    app = app or current_app._get_current_object()
    conn = connection(app)
    counts = {"requeued": 0, "failed": 0}
    for run in jobruns.unfinished_runs(session):
        status = _rq_status(run.rq_job_id, conn)
        if run.status == "queued" and status not in (
            JobStatus.QUEUED,
            JobStatus.STARTED,
            JobStatus.DEFERRED,
            JobStatus.SCHEDULED,
        ):
            enqueue(run, app)
            counts["requeued"] += 1
        elif (
            not requeue_only
            and run.status == "running"
            and status not in (JobStatus.STARTED, JobStatus.QUEUED)
        ):
            jobruns.fail_run(session, run.id, WORKER_GONE)
            kind = JOB_KINDS.get(run.kind)
            if kind is not None and kind.on_abandoned is not None:
                kind.on_abandoned(session, run)
            counts["failed"] += 1
    return counts


def _rq_status(job_id: str, conn: Redis) -> JobStatus | None:
    if not job_id:
        return None
    try:
        return Job.fetch(job_id, connection=conn).get_status()
    except NoSuchJobError:
        return None
