"""What the search benchmark searches for, in which databases, and how big their search index is.

The words come from the demo's own text, so their hit counts are known at every scale:

- the rare word is in the seeded demo conversations (`flask demo`) and in none of the bulk bodies,
  so it finds the same handful of posts at 50,000 posts and at 1,000,000;
- the common word is in 2 of the 11 bulk bodies, which `flask demo --threads/--posts` cycles
  through: about 18% of all posts (9,000 at 50k, 180,000 at 1M);
- the phrase is two words next to each other in one bulk body: about 9% of all posts.

None of them is in a body with a spoiler, so what they find does not depend on who searches.

Datasets: SQLite uses the cached dataset of the read benchmark (bench/dataset.py); PostgreSQL
gets its own database per scale (bench_search_small, bench_search_large), built once by the same
CLI steps and kept, with its facts in bench/results/dataset-postgresql-<scale>.json. A dataset
is built again when the migrations or the bulk data changed since (dataset.search_fingerprint).
`flask search reindex` is timed on every run (a check of every document, writing those the code
now makes differently) and, once per build, from an empty index on a copy (what migration 0011
does to a forum it upgrades; bench/search_index.py); the times are kept with the facts.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.dataset import (
    DATASET_VERSION,
    RESULTS,
    SCALES,
    Dataset,
    Page,
    _build,
    cached_version,
    drop_database,
    flask,
    search_stale,
    sqlite_dataset,
)
from bench.search_index import index_from_empty_seconds

DATABASES = ("sqlite", "postgresql")
SEARCH_SCALES = ("small", "large")


@dataclass(frozen=True)
class SearchQuery:
    name: str
    words: str  # what is typed into the search box
    contains: str  # the text a matching post's body holds (counted with LIKE, for the report)
    newest_first: bool = False
    about: str = ""

    def page(self) -> Page:
        query = {"q": self.words, **({"sort": "newest"} if self.newest_first else {})}
        return Page(f"search_{self.name}", f"/search?{urlencode(query)}", self.about)


QUERIES = (
    SearchQuery("rare", "Arden", "arden", about="rare word (the seeded demo posts only)"),
    SearchQuery("common", "writing", "writing", about="common word (~18% of posts)"),
    SearchQuery(
        "phrase", '"rewatch list"', "rewatch list", about="phrase (~9% of posts), in quotes"
    ),
    SearchQuery(
        "common_newest",
        "writing",
        "writing",
        newest_first=True,
        about="common word, newest first",
    ),
)
WORD = re.compile(r"[^\W_]+")


def words_of(body: str) -> list[str]:
    """A body's words as a search engine sees them before stemming: letters and digits, folded."""
    return [word.casefold() for word in WORD.findall(body)]


def bulk_share(words: str, bodies: list[str]) -> float:
    """The share of `bodies` holding `words` (one word, or several next to each other)."""
    wanted = words_of(words)
    held = 0
    for body in bodies:
        found = words_of(body)
        held += any(
            found[at : at + len(wanted)] == wanted for at in range(len(found) - len(wanted) + 1)
        )
    return held / len(bodies)


# ----------------------------------------------------------------------------------- datasets


def search_dataset(database: str, scale: str, rebuild: bool, postgres_url: str) -> Dataset:
    """The dataset to search on `database` at `scale`, with its facts (build and reindex times).
    Built again when the files that decide its search index changed since (search_fingerprint)."""
    facts = RESULTS / (
        f"dataset-{scale}.json" if database == "sqlite" else f"dataset-{database}-{scale}.json"
    )
    rebuild = rebuild or (facts.exists() and search_stale(_fingerprint_of(facts)))
    if database == "sqlite":
        dataset = sqlite_dataset(scale, rebuild)
    else:
        dataset = postgres_search_dataset(postgres_url, scale, rebuild)
    return Dataset(
        dataset.url, _with_reindex(dataset.url, facts), dataset.pages, dataset.episode_boards
    )


def _fingerprint_of(facts: Path) -> dict[str, str] | None:
    """The files a cached dataset's search index was built with (dataset.search_fingerprint);
    None when unknown (no facts, or built before they were kept)."""
    try:
        found = json.loads(facts.read_text()).get("search_fingerprint")
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None


def postgres_search_dataset(base_url: str, scale: str, rebuild: bool) -> Dataset:
    """A PostgreSQL database of SCALES[scale] on the server of `base_url`, built once and kept
    (it takes minutes at 1M posts): rebuilt only if missing, of another DATASET_VERSION, or
    `rebuild`. After the build, VACUUM ANALYZE, as autovacuum would do soon on a real site."""
    url = make_url(base_url).set(database=f"bench_search_{scale}")
    rendered = url.render_as_string(hide_password=False)
    facts = RESULTS / f"dataset-postgresql-{scale}.json"
    if not rebuild and cached_version(facts) == DATASET_VERSION:
        kept = json.loads(facts.read_text())
        if _max_post_id(rendered) == kept.get("max_post_id"):
            flask(rendered, "init-db")  # follow migrations added since the dataset was built
            return Dataset(rendered, {**kept, "cached": True}, [])
    RESULTS.mkdir(parents=True, exist_ok=True)
    facts.unlink(missing_ok=True)
    drop_database(rendered, create_again=True)
    build: dict[str, Any] = dict(_build(rendered, SCALES[scale]))
    started = time.perf_counter()
    _autocommit(rendered, "VACUUM ANALYZE")
    build["vacuum_seconds"] = round(time.perf_counter() - started, 1)
    build["max_post_id"] = _max_post_id(rendered)
    facts.write_text(json.dumps(build, indent=2))
    return Dataset(rendered, build, [])


def _with_reindex(url: str, facts: Path) -> dict[str, Any]:
    """The dataset's facts, with `flask search reindex` timed on it: on the dataset as it is,
    every run (a check that writes only the documents the code now makes differently: none
    when the code that makes them has not changed since the build), and, the first time, from
    an empty index on a copy (search_index.index_from_empty_seconds)."""
    build: dict[str, Any] = json.loads(facts.read_text())
    started = time.perf_counter()
    said = flask(url, "search", "reindex")
    build["reindex_seconds"] = round(time.perf_counter() - started, 1)
    build["reindex_said"] = said.strip().splitlines()[-1] if said.strip() else ""
    facts.write_text(json.dumps(build, indent=2))
    if build.get("index_from_empty_seconds") is None:
        build["index_from_empty_seconds"] = index_from_empty_seconds(url)
        facts.write_text(json.dumps(build, indent=2))
    return build


def _autocommit(url: str, statement: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()


def _max_post_id(url: str) -> int | None:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            found = connection.scalar(text("SELECT MAX(id) FROM posts"))
            return int(found) if found is not None else None
    except Exception:  # no such database or table yet: not cached
        return None
    finally:
        engine.dispose()


def match_counts(url: str) -> dict[str, int]:
    """Per query, the posts whose Markdown source holds its text (any case): what a search
    finds before stemming and visibility, to tell a rare word from a common one in the report."""
    engine = create_engine(url)
    counts = {}
    try:
        with engine.connect() as connection:
            for query in QUERIES:
                counts[query.page().name] = int(
                    connection.scalar(
                        text("SELECT COUNT(*) FROM posts WHERE LOWER(source) LIKE :pattern"),
                        {"pattern": f"%{query.contains}%"},
                    )
                    or 0
                )
    finally:
        engine.dispose()
    return counts
