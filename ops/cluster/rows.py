"""The cluster check's rows about sessions, caches, settings, limits, mail and the proxy.
Each returns (observed, passed); the loads (a host killed, a rolling restart) are in load.py."""

from __future__ import annotations

import mailbox
import os
import re
import secrets
import signal
import subprocess
import time
from pathlib import Path

import psycopg

from forum.platform.settings import CACHE_SECONDS
from ops.cluster import guide, units
from ops.cluster.client import Browser
from ops.cluster.cluster import ADMIN, APP_PORT, PUBLIC_URL, SERVER_NAME, Cluster
from ops.cluster.machine import ROOT, Host, wait_until

DEMO_PASSWORD = "showboard-demo"
FORGED_HOST = "evil.example"
LINK = re.compile(r"https?://[^\s]+")


class Site:
    """What the rows share: the cluster, and ways to be a fan through the proxy or on a host."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.layout = cluster.layout
        self.ca = str(cluster.tls_cert)

    def fan(self, client: int = 0) -> Browser:
        return Browser.via_proxy(
            self.layout.proxy.address,
            SERVER_NAME,
            self.ca,
            self.layout.clients[client % len(self.layout.clients)],
        )

    def on(self, host: Host, client: int = 0) -> Browser:
        return Browser.to_host(
            host.address,
            APP_PORT,
            SERVER_NAME,
            self.layout.clients[client % len(self.layout.clients)],
        )

    def db(self) -> psycopg.Connection:
        return psycopg.connect(
            f"postgresql://postgres@127.0.0.1:5432/{self.layout.database}", autocommit=True
        )

    def quiet_thread(self) -> tuple[int, str]:
        """A thread whose posts fit on its first page, so its page 1 is where a reply lands."""
        with self.db() as db:
            row = db.execute(
                "SELECT id, slug FROM threads WHERE post_count < 10 ORDER BY id LIMIT 1"
            ).fetchone()
        if row is None:
            raise RuntimeError("no thread with fewer than 10 posts in the seeded data")
        return row[0], row[1]

    def email_of(self, username: str) -> str:
        with self.db() as db:
            row = db.execute("SELECT email FROM users WHERE username = %s", (username,)).fetchone()
        if row is None:
            raise RuntimeError(f"no user {username}")
        return row[0]

    @property
    def a(self) -> Host:
        return self.layout.apps[0]

    @property
    def b(self) -> Host:
        return self.layout.apps[1]


def readyz(site: Site) -> tuple[str, bool]:
    statuses = {host.netns: site.cluster.readyz(host) for host in site.layout.apps}
    return (
        ", ".join(f"{name} {status}" for name, status in statuses.items()),
        all(status == 200 for status in statuses.values()),
    )


def guide_matches_ops(site: Site) -> tuple[str, bool]:
    """The guide shows the config files verbatim and has every step the check runs."""
    text = guide.GUIDE.read_text()
    shown = [
        "ops/showboard.env.example",
        "ops/flask.sh",
        "ops/nginx/showboard.conf",
        "ops/backup.sh",
        *[
            f"ops/systemd/{name}"
            for name in (
                "showboard-web.socket",
                "showboard-web.service",
                "showboard-worker.service",
                "showboard-backup.service",
                "showboard-backup.timer",
            )
        ],
    ]
    differing = [path for path in shown if (ROOT / path).read_text() not in text]
    steps = {"first-install", "tls-cert", "nginx-site", "upgrade", "restore-drill"}
    missing = sorted(steps - guide.steps().keys())
    observed = (
        f"{len(shown) - len(differing)}/{len(shown)} files verbatim"
        + (f"; differ: {', '.join(differing)}" if differing else "")
        + (f"; steps missing: {', '.join(missing)}" if missing else "; 5 steps run")
    )
    return observed, not differing and not missing


def gzip_on(site: Site) -> tuple[str, bool]:
    fan = site.fan()
    page = fan.get("/", {"Accept-Encoding": "gzip"})
    css = fan.get("/static/css/app.css", {"Accept-Encoding": "gzip"})
    found = {
        "HTML": page.headers.get("Content-Encoding", "none"),
        "CSS": css.headers.get("Content-Encoding", "none"),
    }
    fan.close()
    return (
        ", ".join(f"{kind} {encoding}" for kind, encoding in found.items()),
        page.status == 200 and all(value == "gzip" for value in found.values()),
    )


def static_from_nginx(site: Site) -> tuple[str, bool]:
    marker = secrets.token_hex(6)
    fan = site.fan()
    answer = fan.get(f"/static/css/app.css?v=cluster{marker}")
    fan.close()
    reached_app = [
        host.netns
        for host in site.layout.apps
        if marker in site.cluster.processes.log(f"web-{host.netns}")
    ]
    vary = answer.headers.get("Vary", "")
    observed = (
        f"{answer.status}, Vary: {vary or '(none)'}, Set-Cookie: "
        f"{'yes' if answer.headers.get('Set-Cookie') else 'no'}, "
        f"app hosts that saw it: {', '.join(reached_app) or 'none'}"
    )
    passed = (
        answer.status == 200
        and "cookie" not in vary.lower()
        and not answer.headers.get("Set-Cookie")
        and not reached_app
    )
    return observed, passed


def login_shared(site: Site) -> tuple[str, bool]:
    on_a = site.on(site.a)
    on_a.log_in_or_fail("demo", DEMO_PASSWORD)
    on_b = site.on(site.b)
    on_b.cookies = dict(on_a.cookies)
    settings_on_b = on_b.get("/settings").status
    stranger = site.on(site.b).get("/settings").status  # control: no cookie, no page
    return (
        f"/settings on B with A's cookie: {settings_on_b}; without: {stranger}",
        settings_on_b == 200 and stranger in (302, 401),
    )


def reply_on_cached_page(site: Site) -> tuple[str, bool]:
    thread_id, slug = site.quiet_thread()
    path = f"/t/{thread_id}/{slug}"
    visitor = site.on(site.b, 1)
    visitor.get(path)
    warmed = visitor.get(path).headers.get("X-Cache", "?")
    member = site.on(site.a)
    member.log_in_or_fail("murphys_law", DEMO_PASSWORD)
    marker = f"cluster-reply-{secrets.token_hex(6)}"
    token = member.csrf_token(path)
    posted = member.post(
        f"/t/{thread_id}/reply",
        {"csrf_token": token, "body": f"Seen from the other host? {marker}"},
    )
    after = visitor.get(path)
    seen = marker in after.body
    return (
        f"B's page before: X-Cache {warmed}; reply via A: {posted.status}; B's next "
        f"answer: X-Cache {after.headers.get('X-Cache', '?')}, reply "
        f"{'shown' if seen else 'missing'}",
        warmed == "hit" and posted.status == 302 and seen,
    )


def settings_reach_both(site: Site) -> tuple[str, bool]:
    admin = site.on(site.a)
    admin.log_in_or_fail(ADMIN[0], ADMIN[2])
    # Both hosts have the old name cached (settings and anonymous pages) before the change.
    for host in site.layout.apps:
        site.on(host).get("/")
    name = f"Cluster {secrets.token_hex(3)}"
    token = admin.csrf_token("/admin/settings")
    saved = admin.post(
        "/admin/settings",
        {
            "csrf_token": token,
            "site_name": name,
            "tagline": "",
            "registration": "open",
            "rules_markdown": "",
        },
    )
    if saved.status != 302:
        return f"saving the settings answered {saved.status}", False
    changed = time.monotonic()
    seen: dict[str, float] = {}
    limit = CACHE_SECONDS + 1.0
    deadline = changed + CACHE_SECONDS * 2 + 5  # look past the promise, to report how late
    visitors = {host.netns: site.on(host, 1) for host in site.layout.apps}
    while time.monotonic() < deadline and len(seen) < len(visitors):
        for netns, visitor in visitors.items():
            if netns not in seen and name in visitor.get("/").body:
                seen[netns] = time.monotonic() - changed
        time.sleep(0.25)
    observed = "; ".join(
        f"{netns}: {seen[netns]:.1f} s"
        if netns in seen
        else f"{netns}: not within {deadline - changed:.0f} s"
        for netns in visitors
    )
    return (
        f"promised {CACHE_SECONDS:.0f} s; {observed}",
        len(seen) == len(visitors) and max(seen.values()) <= limit,
    )


def login_limit_per_client(site: Site) -> tuple[str, bool]:
    attacker, bystander = site.fan(0), site.fan(1)
    token = attacker.csrf_token("/login")
    failures = []
    for _ in range(6):  # FORUM_LIMIT_LOGIN_IP in the check's settings: 6 per 15 minutes
        failures.append(
            attacker.post(
                "/login",
                {
                    "csrf_token": token,
                    "username": "demo",
                    "password": "not-the-password",
                    "next": "",
                },
            ).status
        )
    locked = attacker.post(
        "/login", {"csrf_token": token, "username": "demo", "password": DEMO_PASSWORD, "next": ""}
    ).status
    other = bystander.log_in("demo", DEMO_PASSWORD).status
    hosts = _hosts_that_served(site, site.layout.clients[0], "POST /login")
    return (
        f"client 1: 6 wrong ({sorted(set(failures))}), then right password {locked}; "
        f"client 2: {other}; client 1's tries went to {', '.join(hosts) or '?'}",
        locked == 429 and other == 302 and set(failures) == {200},
    )


def _hosts_that_served(site: Site, client: str, request: str) -> list[str]:
    log = site.cluster.nginx_log.read_text() if site.cluster.nginx_log.exists() else ""
    found = set()
    for line in log.splitlines():
        if line.startswith(client + " ") and request in line:
            match = re.search(r"upstream=(\S+)", line)
            if match:
                found.update(part.strip(",") for part in match.group(1).split(","))
    return sorted(found)


class MailOutage:
    """Row 5 in two halves: begin() stops the SMTP sink, asks for password resets (one with a
    forged Host) and brings the sink back; end(), after the other rows, waits for the mail job's
    retry with the production retry delay (forum/platform/mail.py), so the rows in between use the
    wait."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.email = site.email_of("tvdebates")
        self.before: list[str] = []
        self.statuses: list[int] = []
        self.during = 0
        self.failed_at = 0.0
        self.error = ""

    def begin(self) -> None:
        try:
            self._begin()
        except Exception as error:  # reported by end(), in the table
            self.error = str(error).splitlines()[0][:200] if str(error) else repr(error)

    def _begin(self) -> None:
        site = self.site
        self.before = _mails_to(site.cluster.mail_dir, self.email)
        site.cluster.stop_smtp()
        fan = site.fan(1)
        for host_header in (SERVER_NAME, FORGED_HOST):
            token = fan.csrf_token("/reset")
            self.statuses.append(
                fan.post(
                    "/reset", {"csrf_token": token, "email": self.email}, {"Host": host_header}
                ).status
            )
        fan.close()
        self.failed_at = time.monotonic()
        time.sleep(3)  # a worker takes the job at once and fails: the relay is down
        self.during = len(self._new())
        site.cluster.start_smtp()
        if not site.cluster.smtp_up():
            raise RuntimeError("the SMTP sink did not come back")

    def end(self) -> tuple[str, bool]:
        if self.error or not self.statuses:
            return f"error: {self.error or 'no reset request was made'}", False
        retry = _first_retry_seconds()
        deadline = self.failed_at + retry + 30
        wait_until(lambda: len(self._new()) >= 1, max(0.0, deadline - time.monotonic()), 1)
        delivered = self._new()
        waited = time.monotonic() - self.failed_at
        links = [link for body in delivered for link in LINK.findall(body)]
        on_public = all(link.startswith(f"{PUBLIC_URL}/reset/") for link in links)
        observed = (
            f"requests {self.statuses} (Host {SERVER_NAME}, forged {FORGED_HOST}); "
            f"{self.during} mails while down; {len(delivered)} by {waited:.0f} s after"
            f" (first retry after {retry:.0f} s); links on "
            f"{', '.join(sorted({link.split('/reset/')[0] for link in links})) or '-'}"
        )
        passed = (
            self.statuses[0] == 302
            and self.statuses[1] in (302, 400)
            and self.during == 0
            and len(delivered) >= 1
            and bool(links)
            and on_public
            and not any(FORGED_HOST in body for body in delivered)
        )
        return observed, passed

    def _new(self) -> list[str]:
        return _mails_to(self.site.cluster.mail_dir, self.email)[len(self.before) :]


def _first_retry_seconds() -> float:
    from forum.platform import mail
    from ops.cluster.cluster import CHECK_SETTINGS

    seconds = CHECK_SETTINGS.get("FORUM_MAIL_RETRY_SECONDS")
    delays = mail.deliver.retry_delays({"MAIL_RETRY_SECONDS": seconds})
    return float(delays[0]) if delays else 0.0


def _mails_to(folder: Path, address: str) -> list[str]:
    if not folder.exists():
        return []
    bodies = []
    for message in mailbox.Maildir(folder, create=False):
        if address in (message["To"] or ""):
            payload = message.get_payload(decode=True)
            bodies.append(
                payload.decode("utf-8", "replace")
                if isinstance(payload, bytes)
                else str(message.get_payload())
            )
    return sorted(bodies)


def backup_restores(site: Site) -> tuple[str, bool]:
    cluster = site.cluster
    backup = units.service("showboard-backup.service", cluster.paths)
    result = subprocess.run(
        ["ip", "netns", "exec", site.a.netns, *backup.argv],
        env={"PATH": os.environ["PATH"], "SHOWBOARD_ENV_FILE": str(cluster.env_file)},
        cwd=backup.cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode != 0:
        return f"backup failed: {(result.stderr or result.stdout).strip()[-200:]}", False
    restore_db = f"{site.layout.database}_restore"
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as db:
        db.execute(f"DROP DATABASE IF EXISTS {restore_db}")
        db.execute(f"CREATE DATABASE {restore_db}")
    values = {**cluster.guide_values(), "RESTORE_DATABASE_URL": cluster.database_url(restore_db)}
    guide.run_step("restore-drill", values, netns=site.a.netns)
    counts = []
    for name in (site.layout.database, restore_db):
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{name}") as db:
            counts.append(
                db.execute(
                    "SELECT (SELECT count(*) FROM posts), (SELECT count(*) FROM users)"
                ).fetchone()
            )
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as db:
        db.execute(f"DROP DATABASE IF EXISTS {restore_db} WITH (FORCE)")
    files = sorted(cluster.backups.glob("showboard-*.backup"))
    return (
        f"{len(files)} backup file(s); posts, users live {counts[0]} restored {counts[1]}",
        bool(files) and counts[0] == counts[1],
    )


def redis_outage(site: Site) -> tuple[str, bool]:
    """Redis hangs (SIGSTOP keeps its data, as a stalled server would): pages must still be
    served, logins still work, /readyz must say not ready; all well again once it resumes."""
    redis = site.cluster.processes.running["redis"]
    thread_id, slug = site.quiet_thread()
    visitor, member = site.fan(2), site.fan(3)
    redis.send_signal(signal.SIGSTOP)
    try:
        pages = [visitor.get(path).status for path in ("/", f"/t/{thread_id}/{slug}", "/")]
        login = member.log_in("bingewatcher22", DEMO_PASSWORD).status
        member_page = member.get("/settings").status
        ready_during = [site.cluster.readyz(host) for host in site.layout.apps]
    finally:
        redis.send_signal(signal.SIGCONT)
    back = all(site.cluster.wait_ready(host, 20) for host in site.layout.apps)
    visitor.close()
    member.close()
    observed = (
        f"while hung: pages {pages}, login {login}, member page {member_page}, "
        f"/readyz {ready_during}; after: /readyz 200 on both: {'yes' if back else 'no'}"
    )
    return observed, (
        all(status == 200 for status in pages)
        and login == 302
        and member_page == 200
        and all(r == 503 for r in ready_during)
        and back
    )
