"""The figures as Markdown tables (stdout, pasted into docs/performance.md), the targets as
PASS/FAIL, and everything as JSON in bench/results/<timestamp>.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench import search_report
from bench.live import LIVE_CEILING_SHARE, ceiling_share

Cell = tuple[str, bool | None]  # what was measured, and whether it meets the target

RSS_LIMIT_MB = 150
PG_REPLIES_PER_S = 200
# Issue 12: with watch progress set, the thread, board and index pages cost at most 10% more
# than without (same run, same server).
PROGRESS_COST_LIMIT = 1.10
PROGRESS_PAGES = ("index", "board", "thread")
# Issue 13: a reply in a thread 5,000 members watch costs the request what one in a thread
# nobody watches costs (fan-out is a job): median time within this factor, same statements.
REPLY_COST_LIMIT = 1.15


def targets(results: dict[str, Any]) -> list[tuple[str, dict[str, Cell]]]:
    """Each target with one cell per worker class it was measured under."""
    rows: dict[str, dict[str, Cell]] = {}

    def add(name: str, column: str, cell: Cell | None) -> None:
        if cell is not None:
            rows.setdefault(name, {})[column] = cell

    for worker_class, run in results.get("reads", {}).items():
        for name, cell in _read_targets(run):
            add(name, worker_class, cell)
    for run in results.get("writes", []):
        exact = not run["counters_after"]
        if run["database"] == "postgresql":
            ok = run["replies_per_s"] >= PG_REPLIES_PER_S and run["lost"] == 0 and exact
            add(
                f"PostgreSQL >= {PG_REPLIES_PER_S} replies/s, none lost, counters exact",
                run["worker_class"],
                (
                    f"{run['replies_per_s']:.0f}/s, {run['lost']} lost, "
                    f"{'exact' if exact else 'WRONG'}",
                    ok,
                ),
            )
        else:
            add(
                "SQLite: no 'database is locked'",
                run["worker_class"],
                (f"{run['database_locked']} locked", run["database_locked"] == 0),
            )
            add(
                "SQLite: none lost, counters exact",
                run["worker_class"],
                (
                    f"{run['lost']} lost, {'exact' if exact else 'WRONG'}",
                    run["lost"] == 0 and exact,
                ),
            )
    for worker_class, run in results.get("live", {}).items():
        for mode in ("visitor", "member"):
            share = ceiling_share(run, mode)
            if share is not None:
                add(
                    f"live poll, no news, {mode} >= {LIVE_CEILING_SHARE}x ceiling",
                    worker_class,
                    (f"{share[0]:.2f}x (CPU: {share[1]:.2f}x)", share[0] >= LIVE_CEILING_SHARE),
                )
    for run in results.get("reply_cost", []):
        quiet, watched = run["quiet"], run["watched"]
        same = quiet["statements_per_reply"] == watched["statements_per_reply"]
        add(
            f"reply with {watched['watchers']:,} watchers <= {REPLY_COST_LIMIT:.2f}x one with "
            "none (median), same statements, no notification in the request",
            run["database"],
            (
                f"{run['watched_over_quiet']:.2f}x, {watched['statements_per_reply']:g} vs "
                f"{quiet['statements_per_reply']:g} statements, "
                f"{run['notifications_written_in_requests']} written",
                run["watched_over_quiet"] <= REPLY_COST_LIMIT
                and same
                and run["notifications_written_in_requests"] == 0,
            ),
        )
    return [*rows.items(), *search_report.targets(results.get("search"))]


def _read_targets(run: dict[str, Any]) -> list[tuple[str, Cell | None]]:
    pages, ceiling = run["pages"], run["ceiling_requests_per_s"]

    def ratio(key: str, at_least: float) -> Cell | None:
        if key not in pages:
            return None
        share = pages[key]["requests_per_s"] / ceiling
        by_cpu = run["ceiling_cpu_ms_per_request"] / max(pages[key]["cpu_ms_per_request"], 0.01)
        return f"{share:.2f}x (CPU: {by_cpu:.2f}x)", share >= at_least

    def deep(key: str, first: str) -> Cell | None:
        # Page cache hits cost the same on every page: compare pages that were rendered.
        mode = "uncached" if f"{first}/uncached" in pages else "logged_in"
        key, first = f"{key}/{mode}", f"{first}/{mode}"
        if key not in pages or first not in pages:
            return None
        times = pages[key]["p50_ms"] / max(pages[first]["p50_ms"], 0.01)
        return f"{times:.2f}x page 1", times <= 1.5

    def progress(page: str) -> Cell | None:
        cost = progress_cost(pages, page)
        if cost is None:
            return None
        by_rate, by_cpu = cost
        return (
            f"{by_rate:.2f}x time (CPU: {by_cpu:.2f}x)",
            by_rate <= PROGRESS_COST_LIMIT and by_cpu <= PROGRESS_COST_LIMIT,
        )

    peak = max((w["rss_kb"] for w in run["workers"]), default=0) / 1024
    over = f"<= {PROGRESS_COST_LIMIT:.2f}x logged in without"
    return [
        *[(f"{page} page, progress set {over}", progress(page)) for page in PROGRESS_PAGES],
        ("thread page, anonymous >= 0.5x ceiling", ratio("thread/anonymous", 0.5)),
        ("thread page, anonymous, cache miss >= 0.5x ceiling", ratio("thread/uncached", 0.5)),
        ("thread page, logged in >= 0.3x ceiling", ratio("thread/logged_in", 0.3)),
        ("board index, anonymous >= 0.4x ceiling", ratio("index/anonymous", 0.4)),
        ("board index, anonymous, cache miss >= 0.4x ceiling", ratio("index/uncached", 0.4)),
        ("board page, anonymous >= 0.4x ceiling", ratio("board/anonymous", 0.4)),
        ("board page, anonymous, cache miss >= 0.4x ceiling", ratio("board/uncached", 0.4)),
        (
            "last page of the long thread <= 1.5x page 1 (p50, rendered)",
            deep("thread_long_last", "thread_long"),
        ),
        ("deep board page <= 1.5x page 1 (p50, rendered)", deep("board_deep", "board")),
        (
            f"worker RSS < {RSS_LIMIT_MB} MB",
            (f"{peak:.0f} MB", peak < RSS_LIMIT_MB) if run["workers"] else None,
        ),
    ]


def progress_cost(pages: dict[str, Any], page: str) -> tuple[float, float] | None:
    """What a page costs logged in with progress set, as multiples of logged in without: by
    time per request (the inverse of requests/s) and by the server's CPU ms per request."""
    plain, watcher = pages.get(f"{page}/logged_in"), pages.get(f"{page}/logged_in_progress")
    if plain is None or watcher is None:
        return None
    by_rate = plain["requests_per_s"] / max(watcher["requests_per_s"], 0.01)
    by_cpu = watcher["cpu_ms_per_request"] / max(plain["cpu_ms_per_request"], 0.01)
    return by_rate, by_cpu


def _progress(worker_class: str, run: dict[str, Any], pages: list[dict[str, str]]) -> str:
    """Spoiler protection's price: each page logged in with progress set next to without."""
    rows = []
    for page in pages:
        cost = progress_cost(run["pages"], page["name"])
        if cost is None:
            continue
        plain = run["pages"][f"{page['name']}/logged_in"]
        watcher = run["pages"][f"{page['name']}/logged_in_progress"]
        by_rate, by_cpu = cost
        over = by_rate > PROGRESS_COST_LIMIT or by_cpu > PROGRESS_COST_LIMIT
        rows.append(
            [
                page["about"],
                f"{plain['requests_per_s']:,.0f}",
                f"{watcher['requests_per_s']:,.0f}",
                f"{watcher['requests_per_s'] / max(plain['requests_per_s'], 0.01):.2f}",
                f"{plain['cpu_ms_per_request']:.2f}",
                f"{watcher['cpu_ms_per_request']:.2f}",
                f"{by_cpu:.2f}",
                f"OVER {PROGRESS_COST_LIMIT:.2f}x" if over else "ok",
            ]
        )
    if not rows:
        return ""
    header = [
        "Page",
        "req/s without",
        "req/s with",
        "x (req/s)",
        "CPU ms without",
        "CPU ms with",
        "x (CPU)",
        f"<= {PROGRESS_COST_LIMIT:.2f}x",
    ]
    return (
        f"**Spoiler protection, `--worker-class {worker_class}`** (logged in with watch "
        f"progress set vs without, same server, measured back to back; a page is OVER when "
        f"progress costs more than {PROGRESS_COST_LIMIT - 1:.0%} more time or CPU per "
        f"request)\n\n{_table(header, rows)}"
    )


def markdown(results: dict[str, Any]) -> str:
    parts = [_dataset(results), _pages(results["pages"])]
    for worker_class, run in results.get("reads", {}).items():
        parts.append(_reads(worker_class, run, results["pages"]))
        spoilers = _progress(worker_class, run, results["pages"])
        if spoilers:
            parts.append(spoilers)
    for worker_class, run in results.get("live", {}).items():
        parts.append(_live(worker_class, run))
    if results.get("writes"):
        parts.append(_writes(results["writes"]))
    if results.get("reply_cost"):
        parts.append(_reply_cost(results["reply_cost"]))
    if results.get("finale"):
        parts.append(_finale(results["finale"]))
    checks = targets(results)
    if checks:
        parts.append(_targets(checks))
    if results.get("ablations"):
        parts.append(_ablations(results["ablations"]))
    for profile in results.get("profiles", []):
        parts.append(_profile(profile))
    return "\n\n".join(parts) + "\n"


def save(results: dict[str, Any], path: Path) -> None:
    results = {
        **results,
        "targets": [
            {
                "target": name,
                **{column: {"measured": text, "pass": ok} for column, (text, ok) in cells.items()},
            }
            for name, cells in targets(results)
        ],
    }
    path.write_text(json.dumps(results, indent=2, default=str))


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _dataset(results: dict[str, Any]) -> str:
    build = results["dataset"]
    cached = " (cached: built by an earlier run)" if build.get("cached") else ""
    machine = results["machine"]
    return (
        f"Scale `{results['scale']}`: {build['posts']:,} bulk posts in {build['threads']:,} "
        f"threads. Build{cached}: {build['seconds']} s in all, {build['posts_per_s']:,} posts/s "
        f"end to end; the bulk inserts alone {build['bulk_posts_per_s']:,} posts/s "
        f"({build['cli_posts_per_s']:,} posts/s by `flask demo`'s own clock).\n"
        f"Machine: {machine['cpus']} CPUs, load average {machine['load_at_start']} at start; "
        f"commit {machine['commit']}. wrk -t1 -c8, {results['options']['duration']} s a page "
        f"after {results['options']['warmup']} s warm-up; gunicorn 2 workers."
    )


WHO = {
    "anonymous": "anonymous",
    "uncached": "anonymous, cache miss",
    "logged_in": "logged in",
    "logged_in_progress": "logged in, progress set",
}


def _reads(worker_class: str, run: dict[str, Any], pages: list[dict[str, str]]) -> str:
    ceiling, ceiling_cpu = run["ceiling_requests_per_s"], run["ceiling_cpu_ms_per_request"]
    first, last = run["ceiling_runs"][0], run["ceiling_runs"][-1]
    rows = [
        [
            "hello world (ceiling)",
            "-",
            f"{ceiling:,.0f}",
            _ms(first["p50_ms"]),
            _ms(first["p99_ms"]),
            "1.00",
            f"{ceiling_cpu:.2f}",
            "1.00",
            "-",
            "-",
            f"{first['load_1m']} / {last['load_1m']}",
        ]
    ]
    cookies = []
    for mode, who in WHO.items():
        for page in pages:
            result = run["pages"].get(f"{page['name']}/{mode}")
            if result is None:
                continue
            if result["sets_cookie"] and not mode.startswith("logged_in"):
                cookies.append(page["about"])
            cpu = result["cpu_ms_per_request"]
            rows.append(
                [
                    page["about"],
                    who,
                    f"{result['requests_per_s']:,.0f}",
                    _ms(result["p50_ms"]),
                    _ms(result["p99_ms"]),
                    f"{result['requests_per_s'] / ceiling:.2f}",
                    f"{cpu:.2f}",
                    f"{ceiling_cpu / max(cpu, 0.01):.2f}",
                    str(result["errors"] + result["socket_errors"]),
                    result["x_cache"],
                    str(result["load_1m"]),
                ]
            )
    runs = " and ".join(f"{r['requests_per_s']:,.0f}" for r in run["ceiling_runs"])
    memory = ", ".join(
        f"{w['rss_kb'] / 1024:.0f} MB (peak {w['peak_kb'] / 1024:.0f})" for w in run["workers"]
    )
    title = (
        f"**Reads, `--worker-class {worker_class}`"
        f"{' --threads 4' if worker_class == 'gthread' else ''}** (ceiling measured before "
        f"and after the pages: {runs} req/s; worker RSS at the end: {memory}; anonymous "
        f"pages setting a cookie: {', '.join(cookies) or 'none'})"
    )
    header = [
        "Page",
        "Who",
        "req/s",
        "p50 ms",
        "p99 ms",
        "x ceiling",
        "CPU ms/req",
        "x ceiling (CPU)",
        "errors",
        "X-Cache",
        "load",
    ]
    return f"{title}\n\n{_table(header, rows)}"


def _live(worker_class: str, run: dict[str, Any]) -> str:
    """The "no news" poll next to the ceiling measured in the same run."""
    ceiling = run["ceiling_requests_per_s"]
    rows = [["hello world (ceiling)", f"{ceiling:,.0f}", "-", "-", "1.00", "1.00", "-"]]
    for mode in ("visitor", "member", "floor"):
        poll = run["pages"].get(f"live/{mode}")
        share = ceiling_share(run, mode)
        if poll is None or share is None:
            continue
        rows.append(
            [
                "/healthz (the app's floor)" if mode == "floor" else f"poll, no news, {mode}",
                f"{poll['requests_per_s']:,.0f}",
                _ms(poll["p50_ms"]),
                _ms(poll["p99_ms"]),
                f"{share[0]:.2f}",
                f"{share[1]:.2f}",
                str(poll["errors"] + poll["socket_errors"]),
            ]
        )
    path = run["pages"].get("live/visitor", {}).get("path", "")
    header = ["Request", "req/s", "p50 ms", "p99 ms", "x ceiling", "x ceiling (CPU)", "errors"]
    return (
        f"**Live threads, `--worker-class {worker_class}`** (`{path}`: 204 from the process's "
        f"memo; the member sends their session cookie)\n\n{_table(header, rows)}"
    )


def _reply_cost(runs: list[dict[str, Any]]) -> str:
    rows = []
    for run in runs:
        for name in ("quiet", "watched"):
            thread = run[name]
            rows.append(
                [
                    run["database"],
                    f"{thread['watchers']:,}",
                    f"{thread['wall_ms_median']:.1f}",
                    f"{thread['wall_ms_mean']:.1f}",
                    f"{thread['cpu_ms_mean']:.1f}",
                    f"{thread['statements_per_reply']:g}",
                ]
            )
    first = runs[0]
    header = ["Database", "watchers", "ms median", "ms mean", "CPU ms", "statements"]
    return (
        f"**Reply cost** ({first['replies_per_thread']} replies to each thread in turns, in "
        f"process; jobs queued, not run: {first['jobs_queued']} queued, "
        f"{first['notifications_written_in_requests']} notifications written by the requests)"
        f"\n\n{_table(header, rows)}"
    )


def _pages(pages: list[dict[str, str]]) -> str:
    rows = [[page["name"], page["about"], f"`{page['path']}`"] for page in pages]
    return f"**Pages**\n\n{_table(['Name', 'Page', 'URL'], rows)}"


def _writes(runs: list[dict[str, Any]]) -> str:
    rows = []
    for run in runs:
        errors = ", ".join(f"{k}: {v}" for k, v in run["errors"].items()) or "0"
        counters = "exact" if not run["counters_after"] else f"{len(run['counters_after'])} wrong"
        rows.append(
            [
                run["database"],
                run["worker_class"],
                str(run["clients"]),
                f"{run['replies_per_s']:,.1f}",
                _ms(run["p50_ms"]),
                _ms(run["p99_ms"]),
                f"{run['cpu_ms_per_reply']:.1f}" if "cpu_ms_per_reply" in run else "-",
                f"{run['acknowledged']:,}",
                errors,
                str(run["database_locked"]),
                str(run["lost"]),
                counters,
            ]
        )
    header = [
        "Database",
        "Workers",
        "Clients",
        "replies/s",
        "p50 ms",
        "p99 ms",
        "CPU ms/reply",
        "acknowledged",
        "errors",
        "locked",
        "lost",
        "counters",
    ]
    return f"**Writes** (replies through the form to hot threads)\n\n{_table(header, rows)}"


def _finale(runs: list[dict[str, Any]]) -> str:
    rows = [
        [
            run["worker_class"],
            run["page"],
            f"{run['reads_per_s']:,.0f}",
            _ms(run["p50_ms"]),
            _ms(run["p99_ms"]),
            f"{100 * run['hit_share']:.0f}%",
            f"{run['cache']['hit']:,} / {run['cache']['miss']:,}",
            f"{run['replies_per_s']:,.1f}",
            str(run["read_errors"] + run["reply_errors"]),
        ]
        for run in runs
    ]
    header = [
        "Workers",
        "Page read",
        "reads/s",
        "p50 ms",
        "p99 ms",
        "cache hits",
        "hits / misses",
        "replies/s meanwhile",
        "errors",
    ]
    first = runs[0]
    return (
        f"**Finale night** (anonymous wrk on one page while {first['writers']} members "
        f"reply to {first['hot_threads']} hot threads; SQLite)\n\n{_table(header, rows)}"
    )


def _targets(checks: list[tuple[str, dict[str, Cell]]]) -> str:
    columns = sorted({column for _, cells in checks for column in cells})
    rows = []
    for name, cells in checks:
        row = [name]
        for column in columns:
            text, ok = cells.get(column, ("-", None))
            row.append(text if ok is None else f"{text} {'PASS' if ok else 'FAIL'}")
        rows.append(row)
    return f"**Targets**\n\n{_table(['Target', *columns], rows)}"


def _ablations(rows: list[dict[str, Any]]) -> str:
    table = [
        [
            row["optimisation"],
            row["now"],
            f"{row['now_ms']:.3f}",
            row["instead"],
            f"{row['instead_ms']:.3f}",
            f"{row['instead_ms'] - row['now_ms']:,.1f} ms ({row['factor']:,.0f}x)",
        ]
        for row in rows
    ]
    header = ["Optimisation", "What the page does now", "ms", "Without it", "ms", "Saves"]
    return f"**What each optimisation buys** (SQLite, median)\n\n{_table(header, table)}"


def _profile(profile: dict[str, Any]) -> str:
    rows = [[step, f"{share:.1f}"] for step, share in profile["steps_percent"].items()]
    packages = ", ".join(
        f"{name} {share:.0f}%"
        for name, share in profile["innermost_package_percent"].items()
        if share >= 1
    )
    who = WHO.get(profile["who"], profile["who"])
    return (
        f"**Profile: {profile['page']}, {who}** "
        f"({profile['samples']:,} samples; innermost frame by package: {packages})\n\n"
        + _table(["Step (inclusive)", "% of request samples"], rows)
    )


def _ms(value: float) -> str:
    return f"{value:,.1f}"
