"""The request log's short cut (forum/platform/requestlog.py): where its own handler is the only
reader (gunicorn, `flask run`), a line skips the LogRecord and goes straight to the stream. It
must print exactly what the logging path prints, and the cached timestamp must stay exact."""

from __future__ import annotations

import io
import logging
import re
from datetime import UTC, datetime

import pytest

from forum.platform import requestlog

LINE = 'time=2026-12-02T04:00:00.000Z event=request path="/a b" status=200'
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def _own_handler_only(monkeypatch: pytest.MonkeyPatch, direct: bool) -> io.StringIO:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(requestlog.LineFormatter(as_json=False))
    monkeypatch.setattr(requestlog.log, "handlers", [handler])
    monkeypatch.setattr(requestlog.log, "propagate", False)
    monkeypatch.setattr(requestlog, "_own_handler", handler if direct else None)
    return stream


@pytest.mark.parametrize("line", [LINE, '{"time":"x","event":"request","path":"/t/1"}'])
def test_direct_write_prints_what_the_logging_path_prints(
    monkeypatch: pytest.MonkeyPatch, line: str
) -> None:
    direct = _own_handler_only(monkeypatch, direct=True)
    requestlog._write(logging.INFO, line)
    through_logging = _own_handler_only(monkeypatch, direct=False)
    requestlog._write(logging.INFO, line)
    assert direct.getvalue() == through_logging.getvalue() == line + "\n"


def test_another_reader_gets_a_record(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = _own_handler_only(monkeypatch, direct=True)
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    monkeypatch.setattr(requestlog.log, "handlers", [*requestlog.log.handlers, Keep()])
    requestlog._write(logging.INFO, LINE)
    assert stream.getvalue() == LINE + "\n"
    assert [record.getMessage() for record in records] == [LINE]


def test_timestamp_is_utc_with_milliseconds() -> None:
    before = datetime.now(UTC)
    stamp = requestlog._now()
    after = datetime.now(UTC)
    assert TIMESTAMP.fullmatch(stamp), stamp
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    # Truncated to the millisecond, like isoformat(timespec="milliseconds").
    assert before.replace(microsecond=before.microsecond // 1000 * 1000) <= moment <= after
