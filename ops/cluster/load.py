"""The cluster check's two rows under load, through the proxy: one app host killed with SIGKILL,
and a rolling restart with TERM. Four fans (the machine is shared: keep it light) reply in a
loop for a bounded time; afterwards every acknowledged reply must be stored, the counters must
equal a recount, and every failed request must be explained."""

from __future__ import annotations

import http.client
import re
import secrets
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.writes import BOARD_RECOUNT, THREAD_RECOUNT, USER_RECOUNT
from ops.cluster import guide
from ops.cluster.client import Browser
from ops.cluster.rows import DEMO_PASSWORD, Site

FANS = ("ingrid_stan", "lawfirm_lurker", "helen_wan_reader", "associate_ally")
# No load runs longer than this, whatever happens: 60 s around a killed host; the upgrade and
# two restarts take longer on a busy 2-core machine.
KILL_SECONDS = 60
RESTART_SECONDS = 120
NGINX_LINE = re.compile(
    r'"(?P<request>[^"]*)" (?P<status>\d{3}) .*rt=(?P<rt>[\d.]+) '
    r"upstream=(?P<upstream>.*?) us=.* id=(?P<id>\w+) end=(?P<end>[\d.]+)"
)


@dataclass
class Outcome:
    marker: str
    started: float  # wall clock, to compare with nginx's log
    ended: float
    status: int | None  # None: no answer at all
    request_id: str
    error: str = ""


@dataclass
class Fan:
    index: int
    browser: Browser
    thread: tuple[int, str]
    token: str = ""
    outcomes: list[Outcome] = field(default_factory=list)

    def run(self, run_id: str, stop_at: list[float], reads: bool) -> None:
        """Request after request until stop_at[0], which the disruption moves earlier once it
        is over (and never past the hard limit)."""
        thread_id, slug = self.thread
        sequence = 0
        while time.monotonic() < stop_at[0]:
            sequence += 1
            marker = f"cluster-{run_id}-{self.index}-{sequence:05d}"
            started = time.time()
            try:
                if reads and sequence % 2:
                    answer = self.browser.get(f"/t/{thread_id}/{slug}")
                else:
                    answer = self.browser.post(
                        f"/t/{thread_id}/reply",
                        {
                            "csrf_token": self.token,
                            "body": f"Load reply {marker}: still thinking about that finale.",
                        },
                    )
                self.outcomes.append(
                    Outcome(
                        marker if answer.status == 302 else "",
                        started,
                        time.time(),
                        answer.status,
                        answer.headers.get("X-Request-ID", ""),
                    )
                )
            except (OSError, http.client.HTTPException, ssl.SSLError) as error:
                self.browser.close()  # the next request opens a new connection
                self.outcomes.append(Outcome("", started, time.time(), None, "", repr(error)))
            time.sleep(0.05)


def _fans(site: Site) -> list[Fan]:
    with site.db() as db:
        threads = db.execute("SELECT id, slug FROM threads ORDER BY id LIMIT 2").fetchall()
    fans = []
    for index, name in enumerate(FANS):
        browser = site.fan(2 + index % 2)  # not the address the login-limit row locked out
        browser.log_in_or_fail(name, DEMO_PASSWORD)
        thread_id, slug = threads[index % len(threads)]
        fan = Fan(index, browser, (thread_id, slug))
        fan.token = browser.csrf_token(f"/t/{thread_id}/{slug}")
        fans.append(fan)
    return fans


def _run(
    site: Site, reads: bool, during: Callable[[], None], max_seconds: float
) -> tuple[list[Outcome], float]:
    """The fans load the site while `during` runs, and for 2 s after; max_seconds at most."""
    fans = _fans(site)
    run_id = secrets.token_hex(3)
    start = time.monotonic()
    stop_at = [start + max_seconds]
    workers = [
        threading.Thread(target=fan.run, args=(run_id, stop_at, reads), daemon=True) for fan in fans
    ]
    for worker in workers:
        worker.start()
    try:
        during()
    finally:
        stop_at[0] = min(stop_at[0], time.monotonic() + 2)
        for worker in workers:
            worker.join(max_seconds + 35)
        for fan in fans:
            fan.browser.close()
    return [outcome for fan in fans for outcome in fan.outcomes], time.monotonic() - start


def _stored(site: Site, markers: list[str]) -> set[str]:
    found: set[str] = set()
    with site.db() as db:
        for row in db.execute("SELECT source FROM posts WHERE source LIKE 'Load reply cluster-%'"):
            match = re.search(r"cluster-\w+-\d+-\d+", row[0])
            if match:
                found.add(match.group(0))
    return found & set(markers)


def _recount_mismatches(site: Site) -> int:
    from sqlalchemy import create_engine

    engine = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:5432/{site.layout.database}")
    try:
        with engine.connect() as connection:
            return sum(
                len(connection.execute(query).all())
                for query in (THREAD_RECOUNT, BOARD_RECOUNT, USER_RECOUNT)
            )
    finally:
        engine.dispose()


def _nginx_lines(site: Site) -> dict[str, dict[str, str]]:
    lines = {}
    for line in site.cluster.nginx_log.read_text().splitlines():
        match = NGINX_LINE.search(line)
        if match:
            lines[match.group("id")] = match.groupdict()
    return lines


def host_killed(site: Site) -> tuple[str, bool]:
    victim = site.a
    killed: list[float] = []

    def kill() -> None:
        time.sleep(6)
        killed.extend(site.cluster.kill_host(victim))
        time.sleep(12)

    outcomes, seconds = _run(site, reads=False, during=kill, max_seconds=KILL_SECONDS)
    acknowledged = [o.marker for o in outcomes if o.status == 302 and o.marker]
    lost = len(acknowledged) - len(_stored(site, acknowledged))
    mismatches = _recount_mismatches(site)
    log = _nginx_lines(site)
    explained, unexplained = 0, []
    first_kill, last_kill = killed
    for outcome in outcomes:
        if outcome.status is not None and outcome.status < 500:
            continue
        line = log.get(outcome.request_id)
        in_flight = (
            line is not None
            and victim.address in line["upstream"]
            and float(line["end"]) - float(line["rt"]) <= last_kill + 0.05
            and float(line["end"]) >= first_kill - 0.05
        )
        if in_flight:
            explained += 1
        elif line is None:
            unexplained.append(
                f"{outcome.status or outcome.error[:60]} at "
                f"{outcome.started - first_kill:+.2f} s, not in nginx's log"
            )
        else:
            unexplained.append(
                f"{line['status']} from {line['upstream']} at "
                f"{float(line['end']) - float(line['rt']) - first_kill:+.2f} s"
            )
    # The host comes back, as systemd would bring it up after the machine reboots.
    site.cluster.start_host(victim)
    back = site.cluster.wait_ready(victim, 90)
    dying = last_kill - first_kill
    observed = (
        f"{len(outcomes)} requests in {seconds:.0f} s (host dead {dying:.2f} s after "
        f"SIGKILL), {len(acknowledged)} acknowledged,"
        f" {lost} lost; {mismatches} counter mismatches; 5xx/no answer: {explained} "
        f"in flight on the killed host, {len(unexplained)} other"
        f"{' (' + '; '.join(unexplained[:3]) + ')' if unexplained else ''}; host back: "
        f"{'yes' if back else 'no'}"
    )
    return observed, (
        lost == 0 and mismatches == 0 and not unexplained and bool(acknowledged) and back
    )


def rolling_restart(site: Site) -> tuple[str, bool]:
    restarted: list[str] = []

    # An upgrade: the guide's migrate and re-render step, then the restarts under load.
    began = time.monotonic()
    guide.run_step("upgrade", site.cluster.guide_values(), netns=site.a.netns)
    restarted.append(f"upgrade step {time.monotonic() - began:.0f} s")

    def restart_each() -> None:
        time.sleep(2)
        for host in site.layout.apps:
            began = time.monotonic()
            site.cluster.stop_worker(host)
            worker = time.monotonic() - began
            ok = site.cluster.restart_web(host, timeout=50)
            site.cluster.start_worker(host)
            restarted.append(
                f"{host.netns} {'ready' if ok else 'NOT ready'} in "
                f"{time.monotonic() - began:.0f} s (worker stop {worker:.0f} s)"
            )
        ended[0] = time.time()
        time.sleep(2)

    ended = [0.0]
    outcomes, seconds = _run(site, reads=True, during=restart_each, max_seconds=RESTART_SECONDS)
    # The load must still be running when the last host is back, or the row proves less.
    covered = ended[0] > 0 and any(o.started >= ended[0] for o in outcomes)
    failed = [o for o in outcomes if o.status is None or o.status >= 400]
    kinds = sorted({str(o.status or o.error[:40]) for o in failed})
    acknowledged = [o.marker for o in outcomes if o.status == 302 and o.marker]
    lost = len(acknowledged) - len(_stored(site, acknowledged))
    observed = (
        f"{len(outcomes)} requests in {seconds:.0f} s while restarting; "
        f"{', '.join(restarted)}; {len(failed)} failed {kinds if kinds else ''}; "
        f"{lost} acknowledged replies lost"
    )
    if not covered:
        observed += f"; the load stopped ({RESTART_SECONDS} s) before the last restart ended"
    return observed, (
        covered
        and not failed
        and lost == 0
        and len(restarted) == len(site.layout.apps) + 1
        and all("NOT" not in item for item in restarted)
    )
