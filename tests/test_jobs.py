"""Background jobs (forum/platform/jobs.py): where the queue lives, mail retries with backoff,
failures
kept for admins, the periodic job, and `flask worker` running the consumer for real.

Tests run jobs inside the request by default (JOBS_IMMEDIATE follows TESTING); these switch to
a real queue in a SQLite file under tmp_path (or in Redis) and run it the way the worker does.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from huey import RedisHuey, SqliteHuey
from sqlalchemy import select
from sqlalchemy.orm import Session

from forum import create_app
from forum.accounts.membership import create_user
from forum.db import db_session
from forum.models import FailedJob, Role, utcnow
from forum.platform import jobs, mail, redisconn
from tests.conftest import (
    FAST_HASHING,
    PASSWORD,
    AppBuilder,
    Browserish,
    Factory,
    migrated_database_url,
)
from tests.html_scan import read
from tests.mail_server import (  # noqa: F401 (fixtures)
    Inbox,
    SmtpServer,
    free_port,
    huey_now,
    link_in,
    only,
    queue_on_disk,
    run_queue,
    smtp_server_fixture,
    smtp_switch_fixture,
)

PROJECT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("FORUM_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
SECRET_LINK = "https://fans.example.org/reset/SECRET-TOKEN-123"


def a_mail(to: str = "fan@example.org") -> mail.Mail:
    return mail.Mail(
        to=to,
        subject="Reset your Showboard password",
        body=f"Choose a new password: {SECRET_LINK}\n",
    )


def failed_jobs(db: Session) -> list[FailedJob]:
    db.expire_all()
    return list(db.scalars(select(FailedJob).order_by(FailedJob.id)))


def job_lines(caplog: pytest.LogCaptureFixture, job: str) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if "event=job" in r.getMessage() and f"job={job} " in r.getMessage()
    ]


# ------------------------------------------------------------------------------ the queue


def test_the_queue_is_a_sqlite_file_at_jobs_path(app: Flask, tmp_path: Path) -> None:
    huey = queue_on_disk(app, tmp_path)
    with app.test_request_context():
        mail.send(a_mail())

    assert isinstance(huey, SqliteHuey)
    assert (tmp_path / "jobs.sqlite3").is_file()
    assert huey.pending_count() == 1
    [task] = huey.pending()
    assert task.name == "deliver" and task.args[0] == "fan@example.org"


def test_mail_retry_seconds_sets_the_first_wait_and_the_rest_double(
    app: Flask, tmp_path: Path
) -> None:
    assert mail.deliver.retry_delays() == [240, 480, 960, 1920]
    app.config["MAIL_RETRY_SECONDS"] = 20
    queue_on_disk(app, tmp_path)
    with app.app_context():
        task = jobs.queue().task(mail.deliver)

    assert task.retry_delay == 20
    assert mail.deliver.retry_delays(app.config) == [20, 40, 80, 160]


def test_jobs_run_in_the_request_only_under_testing(database_url: str, tmp_path: Path) -> None:
    config = {
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test",
        "JOBS_PATH": str(tmp_path / "jobs.sqlite3"),
    }

    assert jobs.queue(create_app({**config, "TESTING": True})).huey.immediate
    assert not jobs.queue(create_app(config)).huey.immediate
    assert not jobs.queue(
        create_app({**config, "TESTING": True, "JOBS_IMMEDIATE": "false"})
    ).huey.immediate


@pytest.fixture
def redis_app(build_app: AppBuilder) -> Flask:
    """An app whose queue is in Redis under a name of its own (only its keys are touched)."""
    return build_app(
        REDIS_URL=REDIS_URL, JOBS_IMMEDIATE=False, JOBS_NAME=f"test-{uuid.uuid4().hex[:12]}"
    )


def test_the_queue_is_in_redis_when_redis_url_is_set(
    redis_app: Flask, smtp_server: tuple[str, Inbox]
) -> None:
    url, inbox = smtp_server
    inbox.clear()
    redis_app.config["SMTP_URL"] = url
    huey = jobs.queue(redis_app).huey
    try:
        with redis_app.test_request_context():
            mail.send(a_mail("redis.fan@example.org"))

        assert isinstance(huey, RedisHuey)
        # Short timeouts and no retries: a request can't hang on a Redis that stopped
        # answering. The worker's blocking reads need a longer one.
        options = huey.storage.pool.connection_kwargs
        assert (
            options["socket_timeout"]
            == options["socket_connect_timeout"]
            == redisconn.TIMEOUT_SECONDS
        )
        worker_queue = jobs.JobQueue(redis_app)
        worker_queue.consuming = True
        worker_options = worker_queue.huey.storage.pool.connection_kwargs
        assert worker_options["socket_timeout"] == jobs.WORKER_REDIS_SOCKET_TIMEOUT
        assert worker_options["socket_connect_timeout"] == redisconn.TIMEOUT_SECONDS
        assert huey.pending_count() == 1
        assert run_queue(huey) == 1
        assert only(inbox.to("redis.fan@example.org"))["Subject"] == a_mail().subject
    finally:
        huey.flush()  # this queue's own keys


def test_a_queue_that_is_down_fails_no_request_and_the_mail_is_recorded(
    build_app: AppBuilder, db: Session
) -> None:
    app = build_app(JOBS_IMMEDIATE=False, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")

    with app.test_request_context():
        mail.send(a_mail("lost.fan@example.org"))  # raises nothing

    [failure] = failed_jobs(db)
    assert failure.task == "deliver" and failure.attempts == 0
    assert "could not be queued" in failure.error
    assert "lost.fan@example.org" in failure.arguments
    assert "SECRET-TOKEN" not in failure.arguments + failure.error


# ------------------------------------------------------------------------------ retries, failures


def test_mail_is_tried_five_times_over_an_hour_with_doubling_delays(
    app: Flask,
    tmp_path: Path,
    smtp_switch: SmtpServer,
    db: Session,
    caplog: pytest.LogCaptureFixture,
) -> None:
    huey = queue_on_disk(app, tmp_path)
    with app.test_request_context():
        mail.send(a_mail("unlucky@example.org"))

    expected = [240, 480, 960, 1920]  # seconds: 4 minutes, doubling, an hour in all
    retries = []
    with caplog.at_level(logging.INFO, logger="showboard.request"):
        for _ in range(10):
            before = huey_now()
            if not run_queue(huey, later=timedelta(hours=2)):
                break
            after = huey_now()
            for retry in huey.scheduled():
                assert retry.eta is not None
                # Due `delay` seconds after the failed try, which ended between the two clocks.
                delay = timedelta(seconds=expected[len(retries)])
                assert before <= retry.eta - delay <= after
                retries.append(retry.eta)

    assert len(retries) == 4
    assert sum(expected) == 3600
    assert mail.deliver.retry_delays() == expected
    assert huey.scheduled_count() == 0 and huey.pending_count() == 0
    outcomes = [line.split("outcome=")[1].split()[0] for line in job_lines(caplog, "deliver")]
    assert outcomes == ["retrying"] * 4 + ["failed"]
    [failure] = failed_jobs(db)
    assert (failure.task, failure.attempts) == ("deliver", 5)
    assert "unlucky@example.org" in failure.arguments and "Reset your" in failure.arguments
    assert "ConnectionRefused" in failure.error
    assert "SECRET-TOKEN" not in failure.arguments + failure.error


def test_admins_see_the_failed_job_count_on_admin(
    app: Flask, tmp_path: Path, smtp_switch: SmtpServer, make: Factory, db: Session
) -> None:
    admin = Browserish(app.test_client())
    admin.login(make.user("jobs_admin", role=Role.ADMIN).username)
    assert "No failed background jobs." in read(admin.get("/admin").get_data(as_text=True)).text

    huey = queue_on_disk(app, tmp_path)
    with app.test_request_context():
        mail.send(a_mail("first.lost@example.org"))
        mail.send(a_mail("second.lost@example.org"))
    while run_queue(huey, later=timedelta(hours=2)):
        pass

    page = admin.get("/admin")
    text = read(page.get_data(as_text=True)).text
    assert page.status_code == 200
    assert "2 failed background jobs" in text
    assert "first.lost@example.org" in text and "second.lost@example.org" in text
    assert "SECRET-TOKEN" not in page.get_data(as_text=True)
    assert len(failed_jobs(db)) == 2


def test_a_mail_that_fails_once_is_delivered_when_smtp_is_back(
    app: Flask, tmp_path: Path, smtp_switch: SmtpServer, db: Session
) -> None:
    huey = queue_on_disk(app, tmp_path)
    with app.test_request_context():
        mail.send(a_mail("patient@example.org"))

    assert run_queue(huey) == 1  # SMTP is down: the first try fails, a retry is scheduled
    assert huey.scheduled_count() == 1
    smtp_switch.up()
    assert run_queue(huey) == 0  # the retry waits for its time
    assert run_queue(huey, later=timedelta(minutes=5)) == 1

    assert only(smtp_switch.inbox.to("patient@example.org"))["Subject"] == a_mail().subject
    assert huey.scheduled_count() == 0
    assert failed_jobs(db) == []


# ------------------------------------------------------------------------------ periodic


def test_the_daily_prune_is_registered_and_forgets_old_failures(
    app: Flask, tmp_path: Path, db: Session
) -> None:
    huey = queue_on_disk(app, tmp_path)
    now = utcnow()
    db.add_all(
        [
            FailedJob(task="deliver", arguments="old", failed_at=now - timedelta(days=31)),
            FailedJob(task="deliver", arguments="recent", failed_at=now - timedelta(days=1)),
        ]
    )
    db.commit()

    due = [task.name for task in huey.read_periodic(datetime(2026, 12, 2, 3, 17))]
    not_due = [task.name for task in huey.read_periodic(datetime(2026, 12, 2, 4, 17))]
    assert "prune_failed_jobs" in due and "prune_failed_jobs" not in not_due
    [prune] = [
        t for t in huey.read_periodic(datetime(2026, 12, 2, 3, 17)) if t.name == "prune_failed_jobs"
    ]
    huey.execute(prune)

    assert [failure.arguments for failure in failed_jobs(db)] == ["recent"]


# ------------------------------------------------------------------------------ flask worker


def test_flask_worker_delivers_queued_mail(tmp_path: Path, smtp_server: tuple[str, Inbox]) -> None:
    url, inbox = smtp_server
    inbox.clear()
    # A database of its own, committed for real: the worker is another process and looks the
    # account up itself.
    database_url = migrated_database_url(tmp_path, "worker")
    app = create_app(
        {
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test",
            "TESTING": True,
            "RATE_LIMITS": "off",
            **FAST_HASHING,
        }
    )
    queue_on_disk(app, tmp_path)
    with app.app_context():
        fan = create_user(db_session(), "worker_fan", "worker.fan@example.org", PASSWORD)
        db_session().commit()
    visitor = Browserish(app.test_client())
    assert visitor.post("/reset", {"email": fan.email}, page="/reset").status_code == 302
    assert inbox.to(fan.email) == []  # the request only queued it

    env = {
        **os.environ,
        "FORUM_DATABASE_URL": database_url,
        "FORUM_SECRET_KEY": "test",
        "FORUM_JOBS_PATH": str(tmp_path / "jobs.sqlite3"),
        "FORUM_SMTP_URL": url,
        "FORUM_MAIL_FROM": "Worker Test <worker@example.org>",
        "FORUM_LOG_FORMAT": "text",
    }
    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as log_file:
        worker = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app", "worker", "--workers", "1"],
            cwd=PROJECT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60  # a generous bound, not a timing assertion
            while not inbox.to(fan.email) and time.monotonic() < deadline and worker.poll() is None:
                time.sleep(0.1)
        finally:
            worker.send_signal(signal.SIGINT)
            worker.wait(timeout=30)
    output = log_path.read_text()

    message = only(inbox.to(fan.email))
    assert message["From"] == "Worker Test <worker@example.org>", output  # the worker's config
    assert Browserish(app.test_client()).get(link_in(message, "reset")).status_code == 200
    assert "event=job job=deliver" in output and "outcome=ok" in output
