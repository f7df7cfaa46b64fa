"""Jobs run to the end in the embedded worker thread and in a real `rq worker` process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from console import create_app
from console.config import Config, TestConfig
from console.extensions import db
from console.models import JobRun, Lead
from console.services import jobruns
from jobs import queue as job_queue
from jobs.worker import drain
from tests.conftest import login

ROOT = Path(__file__).resolve().parents[2]


def wait_until_finished(run_id: int, timeout: float = 30.0) -> JobRun:
    """Poll the job_runs row until the job is done or failed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.expire_all()
        run = db.session.get(JobRun, run_id)
        if run.finished:
            return run
        time.sleep(0.1)
    pytest.fail(f"job run {run_id} still {run.status} after {timeout} s")


def test_job_runs_to_done_and_reports_progress(app, crew):
    run = job_queue.start(
        kind="worker_check",
        title="Check",
        team_id=crew.team.id,
        started_by_id=crew.admin.id,
        params={"steps": 3, "pause": 0},
    )
    assert run.status == "queued" and run.rq_job_id
    drain(app)
    run = wait_until_finished(run.id, timeout=5)
    assert run.status == "done"
    assert (run.progress_done, run.progress_total, run.percent) == (3, 3, 100)
    assert "ran 3 steps" in run.message and run.attempts == 1


def test_failing_job_ends_failed_with_its_error_and_can_be_retried(app, client, crew):
    run = job_queue.start(
        kind="seed_demo",
        title="Load demo data",
        team_id=crew.team.id,
        started_by_id=crew.admin.id,
        params={"team_id": 987654},
    )
    drain(app)
    run = wait_until_finished(run.id, timeout=5)
    assert run.status == "failed"
    assert jobruns.first_line(run.error) == "LookupError: Team 987654 does not exist."
    assert "Traceback" in run.error

    login(client, crew.admin)
    page = client.get(f"/jobs/{run.id}")
    assert "Team 987654 does not exist." in page.text and "Retry" in page.text
    assert client.post(f"/jobs/{run.id}/retry").status_code == 302
    db.session.expire_all()
    assert db.session.get(JobRun, run.id).status == "queued"
    drain(app)
    run = wait_until_finished(run.id, timeout=5)
    assert run.status == "failed" and run.attempts == 2


def test_a_run_delivered_twice_does_its_work_once(app, crew):
    run = job_queue.start(
        kind="worker_check",
        title="Check",
        team_id=crew.team.id,
        started_by_id=None,
        params={"steps": 1, "pause": 0},
    )
    job_queue.queue(app=app).enqueue("jobs.runner.execute", run.id)  # a duplicate delivery
    drain(app)
    run = wait_until_finished(run.id, timeout=5)
    assert run.status == "done" and run.attempts == 1


def test_progress_fragment_polls_while_running_and_stops_when_finished(app, client, crew):
    login(client, crew.manager)
    response = client.post("/jobs/worker-check")
    run_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    queued = client.get(f"/jobs/{run_id}", headers={"HX-Request": "true"})
    assert "<html" not in queued.text
    assert 'hx-trigger="load delay:1s"' in queued.text and "Waiting for a worker" in queued.text

    run = db.session.get(JobRun, run_id)
    run.status, run.progress_total, run.progress_done = "running", 5, 2
    db.session.commit()
    running = client.get(f"/jobs/{run_id}", headers={"HX-Request": "true"})
    assert 'aria-valuenow="40"' in running.text and "2 of 5" in running.text
    assert "hx-get" in running.text

    run.status = "queued"
    run.progress_done = 0
    db.session.commit()
    drain(app)
    done = client.get(f"/jobs/{run_id}", headers={"HX-Request": "true"})
    assert "status-done" in done.text and "hx-get" not in done.text


def test_reconcile_requeues_lost_work_and_fails_orphaned_runs(app, crew):
    lost = jobruns.create_run(
        db.session,
        team_id=crew.team.id,
        kind="worker_check",
        title="Lost",
        params={"steps": 1, "pause": 0},
    )
    orphan = jobruns.create_run(
        db.session, team_id=crew.team.id, kind="worker_check", title="Orphan"
    )
    orphan.status = "running"
    db.session.commit()
    counts = job_queue.reconcile(db.session, app)
    assert counts == {"requeued": 1, "failed": 1}
    assert db.session.get(JobRun, orphan.id).status == "failed"
    assert "worker stopped" in db.session.get(JobRun, orphan.id).error
    drain(app)
    assert wait_until_finished(lost.id, timeout=5).status == "done"


def test_embedded_worker_thread_runs_jobs_in_the_web_process(tmp_path):
    app = create_app(
        TestConfig(EMBEDDED_WORKER=True, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'e.db'}")
    )
    with app.app_context():
        db.create_all()
        from tests.conftest import make_team

        crew = make_team("Thread Team")
        run = job_queue.start(
            kind="worker_check",
            title="Check",
            team_id=crew.team.id,
            started_by_id=crew.admin.id,
            params={"steps": 3, "pause": 0.05},
        )
        thread = app.extensions["console.worker_thread"]
        assert thread.is_alive() and thread.name == "console-worker"
        assert wait_until_finished(run.id, timeout=15).status == "done"

        failing = job_queue.start(
            kind="seed_demo",
            title="Bad",
            team_id=crew.team.id,
            started_by_id=None,
            params={"team_id": 424242},
        )
        failed = wait_until_finished(failing.id, timeout=15)
        assert failed.status == "failed" and "424242" in failed.error
        db.session.remove()


@pytest.mark.postgres
@pytest.mark.redis
def test_real_rq_worker_process_runs_jobs(postgres_admin_url, redis_url, tmp_path):
    """A `flask --app app worker` subprocess on real PostgreSQL and Redis does the work."""
    from tests.servers import create_database

    database_url = create_database(postgres_admin_url, "console_worker_test")
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "worker-test",
    }
    app = create_app(Config(env))
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        from tests.conftest import make_team

        crew = make_team("Worker Team")
        job_queue.queue(app=app).empty()
        log = (tmp_path / "worker.log").open("w")
        worker = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app", "worker", "--with-scheduler"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            ok = job_queue.start(
                kind="worker_check",
                title="Check",
                team_id=crew.team.id,
                started_by_id=crew.admin.id,
                params={"steps": 3, "pause": 0.1},
            )
            done = wait_until_finished(ok.id, timeout=60)
            assert done.status == "done", (tmp_path / "worker.log").read_text()
            assert f"pid {worker.pid}" not in done.message  # the forked work horse ran it

            seed = job_queue.start(
                kind="seed_demo",
                title="Seed",
                team_id=crew.team.id,
                started_by_id=crew.admin.id,
                params={"team_id": crew.team.id},
            )
            seeded = wait_until_finished(seed.id, timeout=60)
            assert seeded.status == "done", seeded.error
            assert db.session.query(Lead).filter_by(team_id=crew.team.id).count() == 300

            bad = job_queue.start(
                kind="seed_demo",
                title="Bad",
                team_id=crew.team.id,
                started_by_id=None,
                params={"team_id": 31337},
            )
            failed = wait_until_finished(bad.id, timeout=60)
            assert failed.status == "failed" and "Team 31337 does not exist" in failed.error
            # The run's row says failed before the work horse has filed the job with RQ.
            registry = job_queue.queue(app=app).failed_job_registry
            deadline = time.monotonic() + 10
            while failed.rq_job_id not in registry.get_job_ids() and time.monotonic() < deadline:
                time.sleep(0.1)
            assert failed.rq_job_id in registry.get_job_ids()
        finally:
            worker.terminate()
            worker.wait(20)
            log.close()
        db.session.remove()
        db.engine.dispose()


def start_redis_on(port: int) -> subprocess.Popen:
    """An empty redis-server on `port` (the same port again after a restart)."""
    import shutil

    from tests.servers import wait_for_port

    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server not found")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_port(port)
    return process


def wait_for(condition, what: str, timeout: float = 30.0, log_path: Path | None = None) -> None:
    """Poll `condition` until it is true, failing with `what` (and the worker's log)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    pytest.fail(f"{what} not seen after {timeout} s\n{log_path.read_text() if log_path else ''}")


@pytest.mark.postgres
@pytest.mark.redis
def test_worker_rides_out_a_redis_restart_and_the_ticker_runs_again(postgres_admin_url, tmp_path):
    """Redis killed mid-job and started again empty: the worker process lives on, the
    running job ends done, a run lost with Redis is queued again by the ticker, and a
    new job runs; a stop asked while Redis is away still stops the worker."""
    import redis as redis_client
    from flask_migrate import upgrade

    from jobs.sending import LEADER_KEY, REDIS_SEEN_KEY
    from tests.conftest import make_team
    from tests.servers import create_database, free_port

    port = free_port()
    redis_server = start_redis_on(port)
    database_url = create_database(postgres_admin_url, "console_redis_restart_test")
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": f"redis://127.0.0.1:{port}/0",
        "SECRET_KEY": "redis-restart-test",
    }
    app = create_app(Config(env))
    log_path = tmp_path / "worker.log"
    probe = redis_client.Redis(port=port)
    with app.app_context():
        upgrade()
        crew = make_team("Restart Team")
        log = log_path.open("w")
        worker = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app", "worker"],  # scheduler by default
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for(lambda: probe.get(LEADER_KEY), "the ticker's lease", log_path=log_path)
            long = job_queue.start(
                kind="worker_check",
                title="Through the outage",
                team_id=crew.team.id,
                started_by_id=None,
                params={"steps": 16, "pause": 0.25},
            )
            wait_for(
                lambda: _status(long.id) == "running", "the long job running", log_path=log_path
            )
            redis_server.kill()
            redis_server.wait(10)
            # A run recorded while Redis was away: its RQ job is nowhere.
            lost = jobruns.create_run(
                db.session,
                team_id=crew.team.id,
                kind="worker_check",
                title="Lost",
                params={"steps": 1, "pause": 0},
            )
            db.session.commit()
            assert wait_until_finished(long.id, timeout=30).status == "done"
            wait_for(
                lambda: "Redis does not answer" in log_path.read_text(),
                "a logged reconnect try",
                log_path=log_path,
            )
            assert worker.poll() is None, log_path.read_text()

            redis_server = start_redis_on(port)  # empty: no queues, no lease, no marker
            assert wait_until_finished(lost.id, timeout=30).status == "done"
            assert probe.get(REDIS_SEEN_KEY) and probe.get(LEADER_KEY)
            fresh = job_queue.start(
                kind="worker_check",
                title="After the restart",
                team_id=crew.team.id,
                started_by_id=None,
                params={"steps": 2, "pause": 0},
            )
            assert wait_until_finished(fresh.id, timeout=30).status == "done"
            assert worker.poll() is None, log_path.read_text()

            redis_server.kill()
            redis_server.wait(10)
            time.sleep(1)
            worker.terminate()
            try:
                code = worker.wait(20)
            except subprocess.TimeoutExpired:
                pytest.fail(f"the worker did not stop in 20 s:\n{log_path.read_text()}")
            assert code == 0, log_path.read_text()
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait(10)
            log.close()
            if redis_server.poll() is None:
                redis_server.terminate()
                redis_server.wait(10)
            probe.close()
        db.session.remove()
        db.engine.dispose()


def _status(run_id: int) -> str:
    db.session.expire_all()
    return db.session.get(JobRun, run_id).status
