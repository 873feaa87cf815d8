"""A REAL SMTP server (aiosmtpd) for the mail tests, one that can be down and come back, and a
helper that runs the job queue in the test's thread the way `flask worker` would.

Import the fixtures (`*_fixture`) into a test module to use them by their names (`smtp_server`,
`inbox`, `smtp_switch`).
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from huey import Huey

from forum.platform import jobs


class Inbox:
    """An aiosmtpd handler that keeps every message it is handed."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        with self._lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()

    def to(self, address: str) -> list[EmailMessage]:
        with self._lock:
            return [m for m in self.messages if m["To"] == address]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SmtpServer:
    """An SMTP server on a fixed port that starts down; `up()` and `down()` switch it."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"smtp://127.0.0.1:{self.port}"
        self.inbox = Inbox()
        self._controller: Controller | None = None

    def up(self) -> None:
        if self._controller is None:
            self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
            self._controller.start()

    def down(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture(scope="module", name="smtp_server")
def smtp_server_fixture() -> Iterator[tuple[str, Inbox]]:
    server = SmtpServer()
    server.up()
    try:
        yield server.url, server.inbox
    finally:
        server.down()


@pytest.fixture(name="inbox")
def inbox_fixture(app: Flask, smtp_server: tuple[str, Inbox]) -> Inbox:
    """The app now sends its mail to the real server above (read per message, so setting it
    here takes effect at once)."""
    url, server_inbox = smtp_server
    app.config["SMTP_URL"] = url
    server_inbox.clear()
    return server_inbox


@pytest.fixture(name="smtp_switch")
def smtp_switch_fixture(app: Flask) -> Iterator[SmtpServer]:
    """An SMTP server of the test's own, down until the test calls up()."""
    server = SmtpServer()
    app.config["SMTP_URL"] = server.url
    try:
        yield server
    finally:
        server.down()


def link_in(message: EmailMessage, kind: str) -> str:
    """The path of the one /reset/ or /verify/ link in a message's text."""
    body = message.get_content()
    links = [urlsplit(url).path for url in re.findall(r"https?://\S+", body)]
    found = [path for path in links if path.startswith(f"/{kind}/")]
    assert len(found) == 1, f"expected one /{kind}/ link in: {body}"
    return found[0]


def only(messages: list[EmailMessage]) -> EmailMessage:
    assert len(messages) == 1, f"expected one message, got {len(messages)}"
    return messages[0]


# ------------------------------------------------------------------------------ the queue


def queue_on_disk(app: Flask, tmp_path: Path) -> Huey:
    """Switch the app from running jobs in the request (the tests' default) to a real queue
    in a SQLite file under tmp_path, as in production. Call before the app queues anything."""
    app.config.update(JOBS_IMMEDIATE=False, JOBS_PATH=str(tmp_path / "jobs.sqlite3"))
    huey = jobs.queue(app).huey
    assert not huey.immediate
    return huey


def huey_now() -> datetime:
    """Huey's clock: naive UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


def run_queue(huey: Huey, *, later: timedelta = timedelta(0)) -> int:
    """Do in this thread what the consumer does at `later` from now: move the scheduled tasks
    that are due by then (retries) to the queue, then run everything queued. Returns how many
    tasks ran."""
    at = huey_now() + later
    for task in huey.read_schedule(at):
        huey.enqueue(task)
    ran = 0
    while (task := huey.dequeue()) is not None:
        huey.execute(task, at)
        ran += 1
    return ran
