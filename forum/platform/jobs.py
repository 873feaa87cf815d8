"""Background jobs on Huey: mail and periodic work, off the request path.

Modules declare jobs at import time with `@jobs.task(...)` or `@jobs.periodic(schedule)`; each
app registers every declared job on its own Huey the first time the queue is used, wrapped so
the job runs inside that app's context (config, database session) and logs one line per run.
The queue is a SQLite file (FORUM_JOBS_PATH, instance/jobs.sqlite3 by default), or Redis when
FORUM_REDIS_URL is set. `flask worker` runs the consumer. A job that runs out of retries is
logged and kept in the failed_jobs table, which /admin counts: nothing is dropped silently.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from huey import Huey, RedisHuey, SqliteHuey, crontab
from huey.api import Task, TaskWrapper
from redis import ConnectionPool
from sqlalchemy import delete, event, func, select
from sqlalchemy.orm import Session, sessionmaker

from forum import db
from forum.models import FailedJob, utcnow
from forum.platform import freshness, redisconn
from forum.platform.requestlog import log_job

log = logging.getLogger(__name__)

# Long enough for an admin to notice a failure on /admin, short enough that the table stays small.
FAILED_JOBS_KEEP_DAYS = 30
# The worker waits on Redis in 1-second blocking reads, so its socket timeout must be longer
# than the web processes' (forum/platform/redisconn.py: 0.3 s, no retries, for every request).
WORKER_REDIS_SOCKET_TIMEOUT = 5


@dataclass(frozen=True)
class Job:
    """A declared job. `summary` turns its arguments into the text kept when it fails: never
    secrets or message bodies."""

    name: str
    func: Callable[..., None]
    retries: int = 0
    retry_delay: int = 0
    backoff: float = 0
    schedule: Callable[[Any], bool] | None = None
    summary: Callable[..., str] = lambda *args: ""
    # A setting that, when set, replaces retry_delay (operators and the cluster check tune it).
    retry_delay_setting: str | None = None
    # A setting holding the seconds a queued run waits before it may start (0: at once).
    delay_setting: str | None = None

    def first_delay(self, config: Any) -> int:
        if self.retry_delay_setting and config.get(self.retry_delay_setting):
            return int(config[self.retry_delay_setting])
        return self.retry_delay

    def enqueue(self, *args: Any) -> None:
        """Queue a run of this job in the current app (after the request's commit), to start
        after its delay setting's seconds when it has one."""
        queue().enqueue(self, args)

    def start_delay(self, config: Any) -> int:
        return int(config.get(self.delay_setting) or 0) if self.delay_setting else 0

    def retry_delays(self, config: Any = None) -> list[float]:
        """Seconds waited before each retry (Huey multiplies the delay by `backoff` each time)."""
        delays, delay = [], float(self.first_delay(config or {}))
        for _ in range(self.retries):
            delays.append(delay)
            delay *= self.backoff or 1
        return delays


DECLARED: dict[str, Job] = {}

# session.info key: the jobs a transaction queues when it commits.
_AFTER_COMMIT = "jobs.after_commit"


def after_commit(session: Session, job: Job, *args: Any) -> None:
    """Queue a run of `job` once this session's transaction commits, and never if it rolls
    back. Domain functions don't commit, and a job queued before the commit could run before
    the rows it reads exist (or for rows that never will)."""
    session.info.setdefault(_AFTER_COMMIT, []).append((job, args))


def _queue_committed(session: Session) -> None:
    for job, args in session.info.pop(_AFTER_COMMIT, ()):
        job.enqueue(*args)


def _forget_rolled_back(session: Session) -> None:
    session.info.pop(_AFTER_COMMIT, None)


def _watch(maker: sessionmaker[Session]) -> None:
    event.listen(maker, "after_commit", _queue_committed)
    event.listen(
        maker, "after_soft_rollback", lambda session, _previous: _forget_rolled_back(session)
    )


def task(
    *,
    retries: int = 0,
    retry_delay: int = 0,
    backoff: float = 0,
    summary: Callable[..., str] | None = None,
    retry_delay_setting: str | None = None,
    delay_setting: str | None = None,
) -> Callable[[Callable[..., None]], Job]:
    """Declare a job; `retries` more tries after the first, waiting `retry_delay` seconds,
    then that times `backoff`, and so on. `delay_setting` names a setting: each run waits
    that many seconds after being queued."""

    def declare(func: Callable[..., None]) -> Job:
        job = Job(
            func.__name__,
            func,
            retries,
            retry_delay,
            backoff,
            summary=summary or (lambda *args: ""),
            retry_delay_setting=retry_delay_setting,
            delay_setting=delay_setting,
        )
        DECLARED[job.name] = job
        return job

    return declare


def periodic(schedule: Callable[[Any], bool]) -> Callable[[Callable[..., None]], Job]:
    """Declare a job the consumer's scheduler runs whenever `schedule` (a huey.crontab)
    matches the minute."""

    def declare(func: Callable[..., None]) -> Job:
        job = Job(func.__name__, func, schedule=schedule)
        DECLARED[job.name] = job
        return job

    return declare


class JobQueue:
    """One app's Huey. Built on first use, so an app that never queues anything (most tests,
    the CLI) opens no queue file or Redis connection."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._huey: Huey | None = None
        self._tasks: dict[str, TaskWrapper] = {}
        self._lock = threading.Lock()
        self.consuming = False  # set by `flask worker` before first use

    @property
    def huey(self) -> Huey:
        with self._lock:
            if self._huey is None:
                self._huey, self._tasks = _build_huey(self.app, self.consuming)
        return self._huey

    def task(self, job: Job) -> TaskWrapper:
        """The Huey task registered for `job`."""
        self.huey  # noqa: B018 - builds the queue and its tasks on first use
        return self._tasks[job.name]

    def enqueue(self, job: Job, args: Sequence[Any]) -> None:
        try:
            delay = job.start_delay(self.app.config)
            # Jobs that run in the request (tests) can't wait: a delayed one would never run.
            if delay and not self.huey.immediate:
                self.task(job).schedule(args, delay=delay)
            else:
                self.task(job)(*args)
        except Exception as error:  # the queue is down: the request must still answer
            log.exception("Could not queue job %s", job.name)
            record_failure(job, args, f"could not be queued: {error!r}", attempts=0)


def _build_huey(app: Flask, consuming: bool) -> tuple[Huey, dict[str, TaskWrapper]]:
    setting = app.config["JOBS_IMMEDIATE"]
    if setting is None:
        immediate = bool(app.testing)  # tests run jobs in the request unless they say otherwise
    elif isinstance(setting, str):  # from the environment
        immediate = setting.strip().lower() in {"1", "true", "yes", "on"}
    else:
        immediate = bool(setting)
    name = app.config["JOBS_NAME"]
    huey: Huey
    if app.config["REDIS_URL"]:
        options = redisconn.options()
        if consuming:
            options["socket_timeout"] = WORKER_REDIS_SOCKET_TIMEOUT
        pool = ConnectionPool.from_url(app.config["REDIS_URL"], **options)
        huey = RedisHuey(name, connection_pool=pool, results=False, immediate=immediate)
    else:
        path = app.config["JOBS_PATH"] or str(Path(app.instance_path) / "jobs.sqlite3")
        huey = SqliteHuey(name, filename=path, results=False, immediate=immediate)
    tasks = {}
    for job in DECLARED.values():
        run = _in_app(app, job)
        if job.schedule is not None:
            tasks[job.name] = huey.periodic_task(job.schedule, context=True, name=job.name)(run)
        else:
            tasks[job.name] = huey.task(
                retries=job.retries,
                retry_delay=job.first_delay(app.config),
                retry_backoff=job.backoff,
                context=True,
                name=job.name,
            )(run)
    return huey, tasks


def _in_app(app: Flask, job: Job) -> Callable[..., None]:
    """The function Huey runs: the job inside an app context, one log line per run, and a
    failed_jobs row when the last try fails."""

    @functools.wraps(job.func)
    def run(*args: Any, task: Task) -> None:
        started = time.perf_counter()
        with app.app_context():
            try:
                job.func(*args)
            except Exception as error:
                last = not task.retries
                log_job(
                    job.name,
                    task.id,
                    "failed" if last else "retrying",
                    time.perf_counter() - started,
                    error=repr(error)[:300],
                    retries_left=task.retries,
                    arguments=job.summary(*args),
                )
                if last:
                    record_failure(job, args, repr(error), attempts=job.retries + 1)
                raise
            log_job(job.name, task.id, "ok", time.perf_counter() - started)

    # Huey names the task after the module and the name given; keep the job's module.
    run.__module__ = job.func.__module__
    return run


def queue(app: Flask | None = None) -> JobQueue:
    return cast(JobQueue, (app or current_app).extensions["forum.jobs"])


# ------------------------------------------------------------------------------ failures


def record_failure(job: Job, args: Sequence[Any], error: str, attempts: int) -> None:
    """Keep the failure in its own transaction (the caller's may be gone or rolled back). If
    even that fails, the log line is the record."""
    log.error("Job %s failed for good after %d attempt(s): %s", job.name, attempts, error)
    try:
        summary = job.summary(*args)
    except Exception:  # a bad summary must not lose the failure
        summary = ""
    session = current_app.extensions["forum.sessionmaker"]()
    try:
        session.add(
            FailedJob(task=job.name, arguments=summary[:500], error=error[:2000], attempts=attempts)
        )
        freshness.private(session)  # shown on /admin only, which is never cached
        session.commit()
    except Exception:
        log.exception("Could not record the failure of job %s", job.name)
        session.rollback()
    finally:
        session.close()


@dataclass(frozen=True)
class FailureSummary:
    count: int
    latest: list[FailedJob]


def failures(session: Any, limit: int = 5) -> FailureSummary:
    """For /admin: how many jobs failed (within the kept window) and the latest few."""
    count = session.scalar(select(func.count()).select_from(FailedJob)) or 0
    latest = list(
        session.scalars(
            select(FailedJob).order_by(FailedJob.failed_at.desc(), FailedJob.id.desc()).limit(limit)
        )
    )
    return FailureSummary(count, latest)


@periodic(crontab(minute="17", hour="3"))
def prune_failed_jobs() -> None:
    """Daily: forget failures older than FAILED_JOBS_KEEP_DAYS."""
    session = current_app.extensions["forum.sessionmaker"]()
    try:
        cutoff = utcnow() - timedelta(days=FAILED_JOBS_KEEP_DAYS)
        session.execute(delete(FailedJob).where(FailedJob.failed_at < cutoff))
        freshness.private(session)
        session.commit()
    finally:
        session.close()


# ------------------------------------------------------------------------------ worker


@click.command("worker")
@click.option(
    "--workers",
    "-w",
    default=2,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Worker threads running jobs side by side.",
)
@with_appcontext
def worker_command(workers: int) -> None:
    """Run the job consumer: mail, retries and periodic jobs (Ctrl-C stops it)."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    job_queue = queue()
    job_queue.consuming = True
    huey = job_queue.huey
    if huey.immediate:
        raise click.ClickException(
            "Jobs run immediately in this configuration "
            "(FORUM_JOBS_IMMEDIATE): there is no queue to consume."
        )
    # Polls an idle SQLite queue at most every 2 s (Redis blocks instead), so mail goes out soon.
    huey.create_consumer(workers=workers, periodic=True, worker_type="thread", max_delay=2.0).run()


def init_app(app: Flask) -> None:
    # Importing a module declares its jobs; these are the modules that have some.
    from forum.conversation import fan_out, notification_mail  # noqa: F401
    from forum.discussion import episodes  # noqa: F401
    from forum.platform import mail  # noqa: F401

    app.extensions["forum.jobs"] = JobQueue(app)
    db.prepare_sessions(app, _watch)
    app.cli.add_command(worker_command)
