"""`make cluster-check` (run by ops/cluster-check.sh, which built the network): brings up
docs/deploy.md's layout, checks what a production site must do, and prints a table. Exit
status 1 if any row fails."""

from __future__ import annotations

import os
import signal
import sys
import time
import traceback

from ops.cluster import load, rows
from ops.cluster.cluster import Cluster
from ops.cluster.machine import Layout
from ops.cluster.report import Table


def main() -> int:
    # A TERM from ops/cluster-check.sh's trap unwinds through the `finally` below.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(143))
    layout = Layout.from_env()
    cluster = Cluster(layout)
    table = Table(os.environ.get("CLUSTER_ONLY", ""))
    began = time.monotonic()
    try:
        print("== cluster: starting the guide's layout", flush=True)
        try:
            cluster.start()
        except Exception as error:
            traceback.print_exc()
            table.add(
                "the guide's layout starts",
                "every host ready",
                f"error: {str(error).splitlines()[0][:300]}",
                False,
            )
            _dump_logs(cluster)
            return _finish(table, began)
        site = rows.Site(cluster)
        # Row 5 starts first and ends last: the other rows run while the mail job waits for
        # its retry (forum/platform/mail.py's delay, minutes in production).
        outage = rows.MailOutage(site)
        outage.begin()
        table.run(
            "guide matches ops/ files",
            "configs shown verbatim, steps present",
            lambda: rows.guide_matches_ops(site),
        )
        table.run("/readyz on both hosts", "200 on each", lambda: rows.readyz(site))
        table.run("gzip", "Content-Encoding: gzip for HTML and CSS", lambda: rows.gzip_on(site))
        table.run(
            "static files from nginx",
            "200, no Vary: Cookie, no cookie, no app host saw it",
            lambda: rows.static_from_nginx(site),
        )
        table.run(
            "1 login shared", "logged in on B with A's cookie", lambda: rows.login_shared(site)
        )
        table.run(
            "2 reply on other host's cache",
            "B's cached page shows A's reply at once",
            lambda: rows.reply_on_cached_page(site),
        )
        table.run(
            "3 settings reach both hosts",
            "new site name on both within the promise",
            lambda: rows.settings_reach_both(site),
        )
        table.run(
            "4 per-IP login limit",
            "client 1 locked out (429), client 2 logs in (302)",
            lambda: rows.login_limit_per_client(site),
        )
        table.run(
            "Redis hangs",
            "pages and logins still work, /readyz 503, then 200 again",
            lambda: rows.redis_outage(site),
        )
        table.run(
            "backup and restore",
            "the timer's backup restores with equal counts",
            lambda: rows.backup_restores(site),
        )
        table.run(
            "7 rolling restart (TERM)",
            "0 failed requests, 0 lost replies",
            lambda: load.rolling_restart(site),
        )
        table.run(
            "6 host killed (SIGKILL)",
            "0 acknowledged replies lost, counters = recount, "
            "5xx only from the killed host's in-flight requests",
            lambda: load.host_killed(site),
        )
        table.run(
            "5 reset mail across SMTP outage",
            "delivered after SMTP is back (retry), "
            "links on FORUM_PUBLIC_URL, none on the forged Host",
            outage.end,
        )
        if not table.passed:
            _dump_logs(cluster)
    finally:
        cluster.stop()
    return _finish(table, began)


def _dump_logs(cluster: Cluster) -> None:
    """The tail of every log, so a failure in CI can be read without the machine."""
    for path in sorted(cluster.processes.logs.glob("*.log")):
        print(f"== {path.name} (last lines)")
        print("\n".join(path.read_text(errors="replace").splitlines()[-25:]))


def _finish(table: Table, began: float) -> int:
    print()
    print(f"== cluster check ({time.monotonic() - began:.0f} s)")
    print(table.render())
    return 0 if table.passed else 1


if __name__ == "__main__":
    sys.exit(main())
