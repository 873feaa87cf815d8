"""One structured line per request: fields in both formats, the request id (kept, generated,
echoed, carried by error records), the statement count, quiet probes, and lines that show in a
process that configured no logging."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy.engine import Engine

from forum.models import Thread, User
from forum.platform import requestlog
from tests.conftest import Browserish, Factory, StatementLog

ROOT = Path(__file__).resolve().parent.parent
FIELDS = ("time", "event", "request_id", "ip", "user", "method", "path", "status", "ms", "sql")
GENERATED_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def lines(caplog: pytest.LogCaptureFixture, engine: Engine) -> Iterator[pytest.LogCaptureFixture]:
    # The tests' sessions run on this engine's connection, not on the app's own engine.
    requestlog.count_statements(engine)
    caplog.set_level(logging.INFO, logger=requestlog.log.name)
    yield caplog


def request_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == requestlog.log.name and record.levelno == logging.INFO
    ]


def parse_text(line: str) -> dict[str, str]:
    return {key: value.strip('"') for key, value in re.findall(r'(\w+)=("[^"]*"|\S+)', line)}


def only_line(caplog: pytest.LogCaptureFixture) -> str:
    found = request_lines(caplog)
    assert len(found) == 1, found
    return found[0]


def test_text_line_has_every_field(
    client: Browserish, lines: pytest.LogCaptureFixture, make: Factory
) -> None:
    thread = make.thread(title="Finale theories")
    lines.clear()
    response = client.get(f"/t/{thread.id}/finale-theories", follow_redirects=True)
    assert response.status_code == 200
    line = only_line(lines)
    assert not line.startswith("{")
    fields = parse_text(line)
    assert list(fields) == list(FIELDS)
    assert fields["event"] == "request"
    assert fields["method"] == "GET"
    assert fields["path"] == f"/t/{thread.id}/finale-theories"
    assert fields["status"] == "200"
    assert fields["ip"] == "127.0.0.1"
    assert fields["user"] == "-"
    assert fields["request_id"] == response.headers["X-Request-ID"]
    assert float(fields["ms"]) >= 0
    assert int(fields["sql"]) > 0


def test_json_line_has_every_field(
    app: Flask, member_client: Browserish, member: User, lines: pytest.LogCaptureFixture
) -> None:
    app.config["LOG_FORMAT"] = "json"
    lines.clear()
    response = member_client.get("/")
    assert response.status_code == 200
    fields = json.loads(only_line(lines))
    assert list(fields) == list(FIELDS)
    assert fields["user"] == member.id
    assert fields["path"] == "/"
    assert fields["status"] == 200
    assert fields["request_id"] == response.headers["X-Request-ID"]
    assert isinstance(fields["sql"], int) and fields["sql"] > 0


def test_text_values_with_spaces_stay_one_field() -> None:
    line = requestlog.render({"path": '/a b"c', "user": None, "status": 404}, as_json=False)
    assert line == 'path="/a b\\"c" user=- status=404'


def test_sane_request_id_is_kept_and_echoed(
    client: Browserish, lines: pytest.LogCaptureFixture
) -> None:
    response = client.get("/", headers={"X-Request-ID": "lb-7f3a.2_X"})
    assert response.headers["X-Request-ID"] == "lb-7f3a.2_X"
    assert parse_text(only_line(lines))["request_id"] == "lb-7f3a.2_X"


@pytest.mark.parametrize("incoming", ["", "has space", "x" * 65, "semi;colon", "ünï"])
def test_other_request_ids_are_replaced(
    client: Browserish, lines: pytest.LogCaptureFixture, incoming: str
) -> None:
    response = client.get("/", headers={"X-Request-ID": incoming})
    generated = response.headers["X-Request-ID"]
    assert GENERATED_ID.fullmatch(generated)
    assert parse_text(only_line(lines))["request_id"] == generated


def test_each_request_gets_its_own_id(client: Browserish) -> None:
    ids = {client.get("/").headers["X-Request-ID"] for _ in range(3)}
    assert len(ids) == 3


def test_error_records_carry_the_request_id(app: Flask, lines: pytest.LogCaptureFixture) -> None:
    def explode() -> str:
        raise RuntimeError("kaboom")

    app.add_url_rule("/test-only/explode", "explode", explode)
    response = app.test_client().get("/test-only/explode", headers={"X-Request-ID": "err-1"})
    assert response.status_code == 500
    errors = [record for record in lines.records if record.levelno >= logging.ERROR]
    assert errors, "the 500 handler logged nothing"
    assert all(getattr(record, "request_id", None) == "err-1" for record in errors)
    assert parse_text(only_line(lines))["status"] == "500"


def test_records_outside_requests_have_no_request_id(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        logging.getLogger("forum.test").info("no request here")
    assert caplog.records[-1].request_id == "-"  # type: ignore[attr-defined]


@pytest.mark.parametrize("logged_in", [False, True])
def test_statement_count_matches_the_sql_fixture(
    client: Browserish,
    member: User,
    make: Factory,
    sql: StatementLog,
    lines: pytest.LogCaptureFixture,
    logged_in: bool,
) -> None:
    thread: Thread = make.thread(replies=3)
    if logged_in:
        client.login(member.username)
    lines.clear()
    sql.clear()
    response = client.get(f"/t/{thread.id}/{thread.slug}")
    assert response.status_code == 200
    assert int(parse_text(only_line(lines))["sql"]) == len(sql)


def test_probes_are_not_logged_as_page_views(
    client: Browserish, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=requestlog.log.name)
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert request_lines(caplog) == []
    debug = [
        record.getMessage()
        for record in caplog.records
        if record.name == requestlog.log.name and record.levelno == logging.DEBUG
    ]
    assert [parse_text(line)["path"] for line in debug] == ["/healthz", "/readyz"]


def test_job_line_uses_the_request_format(app: Flask, lines: pytest.LogCaptureFixture) -> None:
    with app.app_context():
        requestlog.log_job("send_mail", "job-1", "ok", 0.25, attempt=1)
        app.config["LOG_FORMAT"] = "json"
        requestlog.log_job("send_mail", "job-2", "failed", 1.5)
    text_line, json_line = request_lines(lines)
    assert parse_text(text_line) | {"time": "t"} == {
        "time": "t",
        "event": "job",
        "job": "send_mail",
        "job_id": "job-1",
        "outcome": "ok",
        "ms": "250.0",
        "attempt": "1",
    }
    fields = json.loads(json_line)
    assert (fields["job_id"], fields["outcome"], fields["ms"]) == ("job-2", "failed", 1500.0)


SERVER = """
    import logging
    from forum import create_app

    app = create_app({{"DATABASE_URL": {url!r}, "SECRET_KEY": "x", "LOG_FORMAT": {fmt!r},
                       "JOBS_PATH": {jobs!r}}})
    create_app({{"DATABASE_URL": {url!r}, "SECRET_KEY": "x", "JOBS_PATH": {jobs!r}}})

    def explode():
        raise RuntimeError("kaboom")

    app.add_url_rule("/explode", "explode", explode)
    client = app.test_client()
    client.get("/static/css/app.css", headers={{"X-Request-ID": "static-1"}})
    client.get("/explode", headers={{"X-Request-ID": "boom-1"}})
"""


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_lines_show_once_where_nothing_configured_logging(
    database_url: str, tmp_path: Path, fmt: str
) -> None:
    # What gunicorn and `flask run` do: no logging configuration at all. Two apps in one
    # process must not print each line twice.
    script = textwrap.dedent(
        SERVER.format(url=database_url, fmt=fmt, jobs=str(tmp_path / "jobs.sqlite3"))
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    output = done.stderr.splitlines()
    static = [line for line in output if "static-1" in line]
    errors = [line for line in output if "boom-1" in line]
    assert len(static) == 1, done.stderr
    assert len(errors) == 2, done.stderr  # the traceback's first line and the request line
    if fmt == "json":
        records = [json.loads(line) for line in errors]
        assert {record["event"] for record in records} == {"log", "request"}
        assert any("kaboom" in record.get("exception", "") for record in records)
    else:
        assert "kaboom" in done.stderr
        assert any(line.startswith("time=") and "level=error" in line for line in errors)


def test_raw_statements_can_be_counted(app: Flask, lines: pytest.LogCaptureFixture) -> None:
    # A raw DBAPI cursor (the page cache's hit path) runs outside the engine's events.
    def raw_reads() -> str:
        requestlog.note_raw_statement()
        requestlog.note_raw_statement()
        return "ok"

    app.add_url_rule("/test-only/raw", "raw", raw_reads)
    assert app.test_client().get("/test-only/raw").status_code == 200
    assert parse_text(only_line(lines))["sql"] == "2"
    requestlog.note_raw_statement()  # outside a request: nothing to count, no error
