"""The search benchmark's figures as Markdown tables and its target (issue 14): a common-word
search at 1M posts within 3x of the same search at 50k posts."""

from __future__ import annotations

from typing import Any

Cell = tuple[str, bool | None]

SCALING_LIMIT = 3.0
SMALL, LARGE = "small", "large"
WHO = {"anonymous": "anonymous", "logged_in": "logged in"}


def scaling(search: dict[str, Any], database: str, query: str, who: str) -> dict[str, float] | None:
    """How much more a query costs at 1M posts than at 50k, per worker class measured at both:
    time per request as a share of each run's own ceiling (the runs are minutes apart, on a
    shared machine), p50, CPU per request (gunicorn's only: PostgreSQL's own work is not in it),
    and the engine's median call in process."""
    runs = {run["scale"]: run for run in search.get("runs", []) if run["database"] == database}
    if SMALL not in runs or LARGE not in runs:
        return None
    key = f"{query}/{who}"
    small, large = runs[SMALL], runs[LARGE]
    for worker_class, small_reads in small["reads"].items():
        large_reads = large["reads"].get(worker_class)
        if (
            large_reads is None
            or key not in small_reads["pages"]
            or key not in large_reads["pages"]
        ):
            continue
        s, l_ = small_reads["pages"][key], large_reads["pages"][key]
        share_s = s["requests_per_s"] / small_reads["ceiling_requests_per_s"]
        share_l = l_["requests_per_s"] / large_reads["ceiling_requests_per_s"]
        figures = {
            "time": share_s / max(share_l, 1e-9),
            "p50": l_["p50_ms"] / max(s["p50_ms"], 0.01),
            "cpu": l_["cpu_ms_per_request"] / max(s["cpu_ms_per_request"], 0.01),
        }
        engine_s, engine_l = small["engine"].get(key), large["engine"].get(key)
        if engine_s and engine_l:
            figures["engine"] = engine_l["median_ms"] / max(engine_s["median_ms"], 0.001)
        return figures
    return None


def targets(search: dict[str, Any] | None) -> list[tuple[str, dict[str, Cell]]]:
    """Per database: the common word at 1M within SCALING_LIMIT of 50k, anonymous and logged in,
    judged by time per request (share of the ceiling); both must pass."""
    if not search:
        return []
    cells: dict[str, Cell] = {}
    for database in sorted({run["database"] for run in search["runs"]}):
        found = {who: scaling(search, database, "search_common", who) for who in WHO}
        if any(figures is None for figures in found.values()):
            continue
        times = {who: figures["time"] for who, figures in found.items() if figures}
        text = ", ".join(f"{WHO[who]} {value:.2f}x" for who, value in times.items())
        cells[database] = (text, all(value <= SCALING_LIMIT for value in times.values()))
    if not cells:
        return []
    name = f"common-word search at 1M posts <= {SCALING_LIMIT:g}x the same at 50k (time/request)"
    return [(name, cells)]


def markdown(search: dict[str, Any]) -> str:
    parts = [_queries(search), _datasets(search)]
    worker_classes = sorted({wc for run in search["runs"] for wc in run["reads"]})
    for worker_class in worker_classes:
        parts.append(_reads(search, worker_class))
    table = _scaling(search)
    if table:
        parts.append(table)
    parts.append(_plans(search))
    return "\n\n".join(part for part in parts if part)


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _mb(size: float) -> str:
    return f"{size / 1_000_000:,.1f} MB"


def _queries(search: dict[str, Any]) -> str:
    rows = [[q["name"], q["about"], f"`{q['path']}`"] for q in search["queries"]]
    return "**Search queries**\n\n" + _table(["Name", "What", "URL"], rows)


def _datasets(search: dict[str, Any]) -> str:
    rows = []
    for run in search["runs"]:
        build, index = run["build"], run["index"]
        cached = " (cached)" if build.get("cached") else ""
        objects = ", ".join(f"{name} {_mb(size)}" for name, size in index["objects"].items())
        rows.append(
            [
                run["database"],
                f"{index['posts']:,}",
                f"{build['seconds']}{cached}",
                f"{build['bulk_seconds']} ({build['bulk_posts_per_s']:,}/s)",
                f"{build.get('index_from_empty_seconds', '-')} / "
                f"{build.get('reindex_seconds', '-')}",
                str(build.get("vacuum_seconds", "-")),
                _mb(index["total_bytes"]),
                _mb(index["per_million_posts_bytes"]),
                f"{100 * index['total_bytes'] / max(index['database_bytes'], 1):.0f}% of "
                f"{_mb(index['database_bytes'])}",
                objects,
            ]
        )
    header = [
        "Database",
        "Posts",
        "Build s",
        "bulk inserts s (indexed as inserted)",
        "`flask search reindex` s: from empty / check",
        "VACUUM ANALYZE s",
        "Index on disk",
        "per 1M posts",
        "share of the database",
        "Objects",
    ]
    return "**Search datasets and index size**\n\n" + _table(header, rows)


def _reads(search: dict[str, Any], worker_class: str) -> str:
    about = {q["name"]: q for q in search["queries"]}
    rows = []
    for run in search["runs"]:
        reads = run["reads"].get(worker_class)
        if reads is None:
            continue
        ceiling, ceiling_cpu = reads["ceiling_requests_per_s"], reads["ceiling_cpu_ms_per_request"]
        where = f"{run['database']}, {run['index']['posts']:,} posts"
        first, last = reads["ceiling_runs"][0], reads["ceiling_runs"][-1]
        rows.append(
            [
                *[where, "hello world (ceiling)", "-", "-", "-", f"{ceiling:,.0f}"],
                *[f"{first['p50_ms']:.1f}", f"{first['p99_ms']:.1f}", "1.00", f"{ceiling_cpu:.2f}"],
                *["1.00", "-", "-", f"{first['load_1m']} / {last['load_1m']}"],
            ]
        )
        for query in search["queries"]:
            for who in WHO:
                key = f"{query['name']}/{who}"
                result = reads["pages"].get(key)
                if result is None:
                    continue
                engine = run["engine"].get(key)
                cpu = result["cpu_ms_per_request"]
                rows.append(
                    [
                        where,
                        about[query["name"]]["about"],
                        WHO[who],
                        f"{run['matches'].get(query['name'], 0):,}",
                        _found(result.get("results")),
                        f"{result['requests_per_s']:,.0f}",
                        f"{result['p50_ms']:.1f}",
                        f"{result['p99_ms']:.1f}",
                        f"{result['requests_per_s'] / ceiling:.3f}",
                        f"{cpu:.2f}",
                        f"{ceiling_cpu / max(cpu, 0.01):.3f}",
                        f"{engine['median_ms']:.1f} / {engine['p99_ms']:.1f}" if engine else "-",
                        str(result["errors"] + result["socket_errors"]),
                        str(result["load_1m"]),
                    ]
                )
    header = [
        "Dataset",
        "Query",
        "Who",
        "posts with the text",
        "results shown",
        "req/s",
        "p50 ms",
        "p99 ms",
        "x ceiling",
        "CPU ms/req",
        "x ceiling (CPU)",
        "engine ms (median / p99)",
        "errors",
        "load",
    ]
    return (
        f"**Search, `--worker-class {worker_class}`** (wrk -t1 -c8 per page, anonymous and "
        "logged in taking turns; CPU is gunicorn's only, so on PostgreSQL it leaves out the "
        "database server's work; engine: `search.find` alone, in process)\n\n"
        + _table(header, rows)
    )


def _found(results: int | None) -> str:
    return "-" if results is None else f"about {results:,}"


def _scaling(search: dict[str, Any]) -> str:
    rows = []
    for database in sorted({run["database"] for run in search["runs"]}):
        for query in search["queries"]:
            for who in WHO:
                figures = scaling(search, database, query["name"], who)
                if figures is None:
                    continue
                target = query["name"] == "search_common"
                verdict = "-"
                if target:
                    verdict = "PASS" if figures["time"] <= SCALING_LIMIT else "FAIL"
                rows.append(
                    [
                        database,
                        query["about"],
                        WHO[who],
                        f"{figures['time']:.2f}x",
                        f"{figures['p50']:.2f}x",
                        f"{figures['cpu']:.2f}x",
                        f"{figures['engine']:.2f}x" if "engine" in figures else "-",
                        verdict,
                    ]
                )
    if not rows:
        return ""
    header = [
        "Database",
        "Query",
        "Who",
        "time/request (share of ceiling)",
        "p50",
        "CPU/request (gunicorn)",
        "engine median",
        f"common word <= {SCALING_LIMIT:g}x",
    ]
    return "**Search at 1M posts as a multiple of 50k posts**\n\n" + _table(header, rows)


def _plans(search: dict[str, Any]) -> str:
    """The plan of the longest step of the common-word search, at the largest scale of
    each database: where its time goes."""
    parts = []
    for run in search["runs"]:
        if run["scale"] != LARGE and any(
            r["scale"] == LARGE and r["database"] == run["database"] for r in search["runs"]
        ):
            continue
        for who in WHO:
            engine = run["engine"].get(f"search_common/{who}")
            if not engine or not engine.get("plan"):
                continue
            parts.append(
                f"{run['database']}, {run['index']['posts']:,} posts, common word, {WHO[who]}: "
                f"{engine['statements']} statements a search; the longest step (a statement, "
                f"fetching its rows, the Python until the next) {engine['slowest_step_ms']} ms "
                f"of the call; its plan:\n\n```\n{engine['plan']}\n```"
            )
    return "**Plans of the longest step of a search**\n\n" + "\n\n".join(parts) if parts else ""
