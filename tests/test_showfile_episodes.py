"""Episodes in the show file ([[boards.episodes]]): each bad entry is refused with its line and
field and nothing is imported; a re-import upserts by (season, number) and never deletes; any
episode change is a site-wide change for the page cache."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from forum.models import Board, CacheState, Episode
from forum.staff import showfile
from tests.conftest import EXAMPLE_FILE

HEADER = """\
[[boards]]
slug = "partner-track"
name = "Partner Track"

[[boards.episodes]]
season = 1
number = 1
title = "Pilot"
aired = 2022-08-26
"""


def flask(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=list(args))


def episodes_of(db: Session, slug: str) -> list[tuple[str, str, date | None]]:
    rows = db.execute(
        select(Episode)
        .join(Board, Board.id == Episode.board_id)
        .where(Board.slug == slug)
        .order_by(Episode.season, Episode.number)
        .execution_options(populate_existing=True)
    ).scalars()
    return [(episode.code, episode.title, episode.aired) for episode in rows]


def site_version(db: Session) -> int:
    db.expire_all()
    return db.scalar(select(CacheState.version)) or 0


def count(db: Session, model: type) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


# ------------------------------------------------------------------------------ parsing


def test_the_example_file_gives_partner_track_its_ten_episodes() -> None:
    entries = {e.slug: e for e in showfile.parse(EXAMPLE_FILE.read_text(encoding="utf-8"))}

    partner_track = entries["partner-track"].episodes
    assert [(e.season, e.number, e.title) for e in partner_track] == [
        (1, n, f"Episode {n}") for n in range(1, 11)
    ]
    assert {e.aired for e in partner_track} == {date(2022, 8, 26)}
    assert all(not entry.episodes for slug, entry in entries.items() if slug != "partner-track")


@pytest.mark.parametrize(
    "episode, field, message",
    [
        ('aired = "2022-08-26"', "aired", "must be a date like 2022-08-26 (without quotes)"),
        ("aired = 2022-08-26T21:00:00", "aired", "without a time of day"),
        ("aired = 20220826", "aired", "must be a date like 2022-08-26"),
        ("season = 0", "season", "must be a whole number from 1 to 999"),
        ("season = true", "season", "must be a whole number from 1 to 999"),
        ("number = 1000", "number", "must be a whole number from 1 to 999"),
        ('title = "   "', "title", "must be a non-empty string"),
        (f'title = "{"x" * 201}"', "title", "is longer than 200 characters"),
        ('director = "Someone"', "director", "unknown episode field"),
    ],
)
def test_a_bad_episode_field_is_refused_with_its_line_and_field(
    episode: str, field: str, message: str
) -> None:
    # The file's second episode: its header is line 11, its fields follow from line 12.
    key = episode.split("=")[0].strip()
    fields = {"season": "season = 1", "number": "number = 2", "title": 'title = "Two"'}
    fields[key] = episode
    lines = list(fields.values())
    source = f"{HEADER}\n[[boards.episodes]]\n" + "\n".join(lines) + "\n"
    expected_line = 12 + lines.index(episode)

    with pytest.raises(showfile.ShowFileError) as raised:
        showfile.parse(source)

    assert (raised.value.line, raised.value.field) == (expected_line, field)
    assert str(raised.value).startswith(f"line {expected_line}, field '{field}': ")
    assert message in str(raised.value)


def test_a_missing_title_names_the_episode_header() -> None:
    source = f"{HEADER}\n[[boards.episodes]]\nseason = 1\nnumber = 2\n"

    with pytest.raises(showfile.ShowFileError) as raised:
        showfile.parse(source)

    assert str(raised.value).startswith("line 11, field 'title': is required")


def test_the_same_episode_twice_in_a_board_is_refused() -> None:
    source = f'{HEADER}\n[[boards.episodes]]\nseason = 1\nnumber = 1\ntitle = "Again"\n'

    with pytest.raises(showfile.ShowFileError) as raised:
        showfile.parse(source)

    assert (
        str(raised.value) == "line 13, field 'number': S1E1 appears twice in board 'partner-track'"
    )


def test_the_same_episode_on_two_boards_is_fine() -> None:
    source = HEADER + HEADER.replace("partner-track", "severance")

    entries = showfile.parse(source)

    assert [len(entry.episodes) for entry in entries] == [1, 1]


def test_board_fields_are_still_found_on_their_own_lines() -> None:
    source = HEADER.replace('name = "Partner Track"', 'name = "Partner Track"\nstatus = "gone"')

    with pytest.raises(showfile.ShowFileError) as raised:
        showfile.parse(source)

    assert str(raised.value).startswith("line 4, field 'status': ")


def test_episodes_written_as_a_plain_value_are_refused() -> None:
    source = '[[boards]]\nslug = "a"\nname = "A"\nepisodes = "ten of them"\n'

    with pytest.raises(showfile.ShowFileError) as raised:
        showfile.parse(source)

    assert str(raised.value) == "line 4, field 'episodes': must be [[boards.episodes]] tables"


# ------------------------------------------------------------------------------ importing


def test_a_bad_episode_anywhere_imports_nothing(app: Flask, db: Session, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    second = HEADER.replace("partner-track", "severance").replace("2022-08-26", '"soon"')
    bad.write_text(HEADER + second, encoding="utf-8")

    result = flask(app, "boards", "import", str(bad))

    assert result.exit_code == 1
    assert "line 18, field 'aired': must be a date like 2022-08-26" in result.output
    assert "Nothing was imported." in result.output
    assert (count(db, Board), count(db, Episode)) == (0, 0)


def test_import_creates_episodes_and_says_so(app: Flask, db: Session) -> None:
    before = site_version(db)

    result = flask(app, "boards", "import", str(EXAMPLE_FILE))

    assert result.exit_code == 0, result.output
    assert "5 created, 0 updated, 0 unchanged; episodes: 10 created, 0 updated, 0 unchanged" in (
        result.output
    )
    assert episodes_of(db, "partner-track") == [
        (f"S1E{n}", f"Episode {n}", date(2022, 8, 26)) for n in range(1, 11)
    ]
    assert site_version(db) > before


def test_reimport_updates_by_season_and_number_and_deletes_nothing(
    app: Flask, db: Session, tmp_path: Path
) -> None:
    first = tmp_path / "first.toml"
    first.write_text(
        HEADER + '\n[[boards.episodes]]\nseason = 1\nnumber = 2\ntitle = "Two"\n', encoding="utf-8"
    )
    assert flask(app, "boards", "import", str(first)).exit_code == 0
    second = tmp_path / "second.toml"
    second.write_text(
        HEADER.replace('"Pilot"', '"Pilot (extended)"').replace("2022-08-26", "2022-08-27")
        + '\n[[boards.episodes]]\nseason = 2\nnumber = 1\ntitle = "Back"\naired = 2099-01-01\n',
        encoding="utf-8",
    )
    before = site_version(db)

    result = flask(app, "boards", "import", str(second))

    assert result.exit_code == 0, result.output
    assert "episodes: 1 created, 1 updated, 0 unchanged" in result.output
    assert episodes_of(db, "partner-track") == [
        ("S1E1", "Pilot (extended)", date(2022, 8, 27)),
        ("S1E2", "Two", None),  # not in the file any more: kept
        ("S2E1", "Back", date(2099, 1, 1)),
    ]
    assert site_version(db) > before


def test_reimporting_the_same_episodes_writes_nothing(app: Flask, db: Session) -> None:
    flask(app, "boards", "import", str(EXAMPLE_FILE))
    before = site_version(db)

    result = flask(app, "boards", "import", str(EXAMPLE_FILE))

    assert "episodes: 0 created, 0 updated, 10 unchanged" in result.output
    assert site_version(db) == before


def test_keep_existing_adds_missing_episodes_but_keeps_edited_ones(
    app: Flask, db: Session, tmp_path: Path
) -> None:
    first = tmp_path / "first.toml"
    first.write_text(HEADER, encoding="utf-8")
    flask(app, "boards", "import", str(first))
    second = tmp_path / "second.toml"
    second.write_text(
        HEADER.replace('"Pilot"', '"Renamed"')
        + '\n[[boards.episodes]]\nseason = 1\nnumber = 2\ntitle = "Two"\n',
        encoding="utf-8",
    )

    result = flask(app, "boards", "import", "--keep-existing", str(second))

    assert "episodes: 1 created, 0 updated, 1 unchanged" in result.output
    assert episodes_of(db, "partner-track") == [
        ("S1E1", "Pilot", date(2022, 8, 26)),
        ("S1E2", "Two", None),
    ]
