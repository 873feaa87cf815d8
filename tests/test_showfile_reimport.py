"""Re-importing a show file says what it changed (issue 11, defect 13): boards already equal to
the file are unchanged, not "updated", and nothing is written for them; a file that is not TOML
at all is reported by line and column, not as a field named '-'."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from forum.staff import showfile
from tests.conftest import StatementLog

EXAMPLE_FILE = Path(__file__).resolve().parent.parent / "shows.example.toml"
SHOWS = Path(__file__).parent / "fixtures" / "shows"


def example_entries() -> list[showfile.ShowEntry]:
    return showfile.parse(EXAMPLE_FILE.read_text(encoding="utf-8"))


def test_importing_the_same_file_again_changes_nothing_and_says_so(
    db: Session, sql: StatementLog
) -> None:
    entries = example_entries()
    first = showfile.upsert(db, entries)
    db.commit()
    assert len(first.created) == len(entries) == 5

    sql.clear()
    again = showfile.upsert(db, example_entries())
    db.commit()

    assert (again.created, again.updated) == ([], [])
    assert again.unchanged == [entry.slug for entry in entries]
    assert again.summary() == (
        "0 created, 0 updated, 5 unchanged; episodes: 0 created, 0 updated, 10 unchanged"
    )
    assert not [s for s in sql.statements if s.lstrip().upper().startswith("UPDATE")]


def test_a_changed_board_is_updated_and_the_rest_unchanged(db: Session) -> None:
    showfile.upsert(db, example_entries())
    db.commit()
    source = EXAMPLE_FILE.read_text(encoding="utf-8").replace(
        'status = "renewed"', 'status = "on hiatus"', 1
    )

    result = showfile.upsert(db, showfile.parse(source))

    assert result.updated == ["severance"]
    assert "severance" not in result.unchanged and len(result.unchanged) == 4
    assert result.summary() == (
        "0 created, 1 updated, 4 unchanged; episodes: 0 created, 0 updated, 10 unchanged"
    )


def test_keep_existing_counts_existing_boards_as_unchanged(db: Session) -> None:
    showfile.upsert(db, example_entries())
    db.commit()
    source = EXAMPLE_FILE.read_text(encoding="utf-8").replace("Severance", "Severance (new)")

    result = showfile.upsert(db, showfile.parse(source), keep_existing=True)

    assert (result.created, result.updated, len(result.unchanged)) == ([], [], 5)


def test_a_toml_syntax_error_names_line_and_column_not_a_field() -> None:
    with pytest.raises(showfile.ShowFileError) as raised:
        showfile.parse((SHOWS / "syntax_error.toml").read_text(encoding="utf-8"))

    message = str(raised.value)
    assert message.startswith("line 10, column ")
    assert "field" not in message and "'-'" not in message
    assert "(at line" not in message  # said once, in front
    assert (raised.value.line, raised.value.field) == (10, None)


@pytest.mark.parametrize(
    "source, line, column",
    [("[[boards]]\nslug = severance\n", 2, 8), ('[[boards]]\nslug = "a"\nslug = "b"\n', 3, 11)],
)
def test_syntax_errors_point_at_the_spot(source: str, line: int, column: int) -> None:
    with pytest.raises(showfile.ShowFileError) as raised:
        showfile.parse(source)

    assert (raised.value.line, raised.value.column) == (line, column)
    assert str(raised.value).startswith(f"line {line}, column {column}: not valid TOML: ")


def test_the_import_command_prints_the_line_and_column(app: Flask) -> None:
    result = app.test_cli_runner().invoke(
        args=["boards", "import", str(SHOWS / "syntax_error.toml")]
    )

    assert result.exit_code != 0
    assert "line 10, column " in result.output and "field '-'" not in result.output
