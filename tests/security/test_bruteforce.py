"""Brute force and flooding: rate limits (Flask-Limiter), new-member limits and flood control.

Limits are set small through config ("3 per minute") so the tests never wait. Each rate-limit
test runs against the in-memory store and, when FORUM_TEST_REDIS_URL is set, against the real
Redis with TWO app instances sharing it, attempts alternating between them: a limit must hold
across workers. Each Redis test uses its own key prefix and deletes only its own keys.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from forum.models import Board, Post, Thread, User, utcnow
from tests.conftest import PASSWORD, Browserish, Factory
from tests.html_scan import csrf_token, read
from tests.security.rate_limited import AppFactory, ClusterFactory

BIG = "1000 per minute"


def visitor(app: Flask, ip: str) -> Browserish:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    return Browserish(client)


def log_in(app: Flask, username: str, password: str, ip: str = "203.0.113.1") -> TestResponse:
    """One login attempt from a fresh browser at `ip`."""
    return visitor(app, ip).post("/login", {"username": username, "password": password})


def member_on(app: Flask, username: str, ip: str = "198.51.100.7") -> Browserish:
    client = visitor(app, ip)
    client.login(username)
    return client


def is_friendly_429(response: TestResponse) -> bool:
    page = read(response.get_data(as_text=True))
    return (
        response.status_code == 429
        and response.mimetype == "text/html"
        and "Slow down a little" in page.title + page.text
    )


def trusted(make: Factory, db: Session, name: str) -> User:
    """An established member: the new-member limits don't apply, so only rate limits do."""
    user = make.user(name)
    user.is_trusted = True
    db.commit()
    return user


# ------------------------------------------------------------------------------ logins


def test_account_limit_refuses_even_the_right_password(
    cluster_factory: ClusterFactory, make: Factory
) -> None:
    cluster = cluster_factory(LIMIT_LOGIN_ACCOUNT="3 per minute", LIMIT_LOGIN_IP=BIG)
    target, bystander = make.user("brute_target"), make.user("bystander")

    # Three wrong guesses from three addresses, one in another case: all count for the account.
    for n, name in enumerate(["brute_target", "BRUTE_TARGET", "Brute_Target"]):
        failed = log_in(cluster.pick(n), name, "wrong guess", ip=f"203.0.113.{n + 10}")
        assert failed.status_code == 200

    right = log_in(cluster.pick(3), target.username, PASSWORD, ip="203.0.113.99")
    other = log_in(cluster.pick(4), bystander.username, PASSWORD, ip="203.0.113.10")

    assert is_friendly_429(right), f"right password after the limit: {right.status_code}"
    assert other.status_code == 302, "the limit is per account, not for everyone"


def _normalized(response: TestResponse, username: str) -> tuple[int, str]:
    body = response.get_data(as_text=True)
    token = read(body).values.get("csrf_token")
    if token:
        body = body.replace(token, "<token>")
    return response.status_code, body.replace(username, "<username>")


def test_limited_logins_look_the_same_for_existing_and_unknown_accounts(
    cluster_factory: ClusterFactory, make: Factory
) -> None:
    cluster = cluster_factory(LIMIT_LOGIN_ACCOUNT="3 per minute", LIMIT_LOGIN_IP=BIG)
    make.user("real_fan")
    answers: dict[str, list[tuple[int, str]]] = {}

    for name in ("real_fan", "nobody_fan"):
        attempts = ["wrong one", "wrong two", "wrong three", PASSWORD, PASSWORD]
        answers[name] = [
            _normalized(log_in(cluster.pick(n), name, password), name)
            for n, password in enumerate(attempts)
        ]

    assert [status for status, _ in answers["real_fan"]] == [200, 200, 200, 429, 429]
    for n, (real, unknown) in enumerate(
        zip(answers["real_fan"], answers["nobody_fan"], strict=True)
    ):
        assert real == unknown, f"attempt {n + 1} tells an existing account from an unknown one"


def test_address_limit_refuses_further_logins_from_that_address(
    cluster_factory: ClusterFactory, make: Factory
) -> None:
    cluster = cluster_factory(LIMIT_LOGIN_IP="3 per minute", LIMIT_LOGIN_ACCOUNT=BIG)
    fan = make.user("spray_target")
    attacker, elsewhere = "192.0.2.66", "192.0.2.77"

    for n, name in enumerate(["alice_x", "bob_x", "carol_x"]):  # password spraying
        assert log_in(cluster.pick(n), name, "Summer2024!", ip=attacker).status_code == 200

    blocked = log_in(cluster.pick(3), fan.username, PASSWORD, ip=attacker)
    allowed = log_in(cluster.pick(4), fan.username, PASSWORD, ip=elsewhere)

    assert is_friendly_429(blocked)
    assert allowed.status_code == 302


def test_successful_logins_do_not_use_up_the_limit(
    cluster_factory: ClusterFactory, make: Factory
) -> None:
    cluster = cluster_factory(LIMIT_LOGIN_ACCOUNT="2 per minute", LIMIT_LOGIN_IP="2 per minute")
    fan = make.user("busy_fan")

    answers = [log_in(cluster.pick(n), fan.username, PASSWORD).status_code for n in range(5)]

    assert answers == [302] * 5


# ------------------------------------------------------------------------------ sign-up, reset


def test_registration_limit_per_address(cluster_factory: ClusterFactory, db: Session) -> None:
    cluster = cluster_factory(LIMIT_REGISTER="2 per minute")

    def register(n: int, ip: str) -> TestResponse:
        return visitor(cluster.pick(n), ip).post(
            "/register",
            {
                "username": f"signup_{n}",
                "email": f"signup{n}@example.org",
                "password": PASSWORD,
                "confirm": PASSWORD,
            },
            page="/register",
        )

    answers = [register(n, "192.0.2.10") for n in range(3)]
    other_address = register(3, "192.0.2.11")

    assert [r.status_code for r in answers[:2]] == [302, 302]
    assert is_friendly_429(answers[2])
    assert db.scalar(select(User).where(User.username == "signup_2")) is None
    assert other_address.status_code == 302


def test_sign_up_limits_hold_when_addresses_must_be_confirmed(
    cluster_factory: ClusterFactory, make: Factory, db: Session, tmp_path: Path
) -> None:
    """A sign-up only queues a mail (the account is made by its link): the per-IP limit and the
    per-address mail limit still apply, to an address with an account and one without alike."""
    cluster = cluster_factory(
        LIMIT_REGISTER="2 per minute",
        LIMIT_MAIL_PER_ADDRESS="2 per minute",
        REQUIRE_EMAIL_VERIFICATION=True,
        JOBS_IMMEDIATE=False,
        JOBS_PATH=str(tmp_path / "jobs.sqlite3"),
    )
    owner = make.user("limit_owner")
    users = db.scalar(select(func.count()).select_from(User))

    def sign_up(n: int, ip: str, email: str) -> TestResponse:
        return visitor(cluster.pick(n), ip).post(
            "/register",
            {"username": f"joiner_{n}", "email": email, "password": PASSWORD, "confirm": PASSWORD},
            page="/register",
        )

    per_ip = [sign_up(n, "192.0.2.90", f"joiner{n}@example.org") for n in range(3)]
    to_owner = [sign_up(10 + n, f"192.0.2.{100 + n}", owner.email) for n in range(3)]
    to_new = [sign_up(20 + n, f"192.0.2.{110 + n}", "fresh.joiner@example.org") for n in range(3)]

    for answers in (per_ip, to_owner, to_new):
        assert [r.status_code for r in answers[:2]] == [302, 302]
        assert is_friendly_429(answers[2])
    assert db.scalar(select(func.count()).select_from(User)) == users


def test_password_reset_limit_per_address(cluster_factory: ClusterFactory) -> None:
    cluster = cluster_factory(LIMIT_PASSWORD_RESET="2 per minute")

    def reset(n: int, ip: str) -> TestResponse:
        # Addresses without accounts: the answer is the same, and no mail is written.
        return visitor(cluster.pick(n), ip).post(
            "/reset", {"email": f"nobody{n}@example.org"}, page="/reset"
        )

    answers = [reset(n, "192.0.2.20") for n in range(3)]

    assert [r.status_code for r in answers[:2]] == [302, 302]
    assert is_friendly_429(answers[2])
    assert reset(3, "192.0.2.21").status_code == 302


# ------------------------------------------------------------------------------ posting


def kept_draft(response: TestResponse) -> dict[str, str]:
    """The title and text handed back in the page's form fields."""
    values = read(response.get_data(as_text=True)).values
    return {name: values[name] for name in ("title", "body") if name in values}


def test_thread_limit_keeps_the_typed_text(
    cluster_factory: ClusterFactory, make: Factory, db: Session
) -> None:
    cluster = cluster_factory(LIMIT_THREADS="2 per minute")
    board = make.board("flood-board")
    poster = trusted(make, db, "prolific_fan")
    browsers = [member_on(app, poster.username) for app in cluster.apps]
    new = f"/b/{board.slug}/new"

    def start(n: int) -> TestResponse:
        client = browsers[n % len(browsers)]
        return client.post(
            new, {"title": f"Theory number {n}", "body": f"My theory #{n}"}, page=new
        )

    answers = [start(n) for n in range(3)]

    assert [r.status_code for r in answers[:2]] == [302, 302]
    assert answers[2].status_code == 429
    assert kept_draft(answers[2]) == {"title": "Theory number 2", "body": "My theory #2"}
    assert "your text is kept" in read(answers[2].get_data(as_text=True)).text
    assert db.scalar(select(Thread).where(Thread.title == "Theory number 2")) is None


def test_reply_limit_keeps_the_typed_text(
    cluster_factory: ClusterFactory, make: Factory, db: Session
) -> None:
    cluster = cluster_factory(LIMIT_REPLIES="2 per minute")
    thread = make.thread(title="Busy thread")
    poster = trusted(make, db, "chatty_fan")
    browsers = [member_on(app, poster.username) for app in cluster.apps]
    page = f"/t/{thread.id}/{thread.slug}"

    answers = [
        browsers[n % len(browsers)].post(
            f"/t/{thread.id}/reply", {"body": f"Reply number {n}"}, page=page
        )
        for n in range(3)
    ]

    assert [r.status_code for r in answers[:2]] == [302, 302]
    assert answers[2].status_code == 429
    assert kept_draft(answers[2]) == {"body": "Reply number 2"}


def test_report_limit(cluster_factory: ClusterFactory, make: Factory, db: Session) -> None:
    cluster = cluster_factory(LIMIT_REPORTS="2 per minute")
    thread = make.thread(title="Reported thread", replies=3)
    posts = db.scalars(select(Post.id).where(Post.thread_id == thread.id)).all()
    reporter = trusted(make, db, "eager_reporter")
    browsers = [member_on(app, reporter.username) for app in cluster.apps]

    answers = [
        browsers[n % len(browsers)].post(
            f"/p/{post_id}/report",
            {"reason": "spam", "details": f"Report {n}"},
            page=f"/p/{post_id}/report",
        )
        for n, post_id in enumerate(posts[:3])
    ]

    assert [r.status_code for r in answers[:2]] == [302, 302]
    assert is_friendly_429(answers[2])


def test_preview_limit_keeps_the_typed_text(
    cluster_factory: ClusterFactory, make: Factory, db: Session
) -> None:
    cluster = cluster_factory(LIMIT_PREVIEWS="2 per minute")
    writer = trusted(make, db, "previewing_fan")
    browsers = [member_on(app, writer.username) for app in cluster.apps]

    answers = [
        browsers[n % len(browsers)].post(
            "/preview", {"body": f"Draft number {n}"}, page="/settings"
        )
        for n in range(3)
    ]

    assert [r.status_code for r in answers[:2]] == [200, 200]
    assert answers[2].status_code == 429
    assert kept_draft(answers[2]) == {"body": "Draft number 2"}


# ------------------------------------------------------------------------------ switched off


def test_rate_limits_off_logs_a_warning_at_start(
    make_app: AppFactory, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORUM_RATE_LIMITS", "off")
    with caplog.at_level(logging.WARNING):
        make_app(rate_limits=None)

    assert any(
        "FORUM_RATE_LIMITS=off" in record.getMessage() and record.levelno >= logging.WARNING
        for record in caplog.records
    )


def test_rate_limits_on_logs_no_such_warning(
    make_app: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        make_app()

    assert not any("RATE_LIMITS" in record.getMessage() for record in caplog.records)


def test_rate_limits_off_switches_every_limit_off(
    make_app: AppFactory, make: Factory, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORUM_RATE_LIMITS", "off")
    app = make_app(
        rate_limits=None,
        LIMIT_LOGIN_ACCOUNT="1 per minute",
        LIMIT_LOGIN_IP="1 per minute",
        LIMIT_REGISTER="1 per minute",
        LIMIT_PASSWORD_RESET="1 per minute",
        LIMIT_THREADS="1 per minute",
        LIMIT_REPLIES="1 per minute",
        LIMIT_REPORTS="1 per minute",
        LIMIT_PREVIEWS="1 per minute",
        NEW_MEMBER_MAX_THREADS=1,
        NEW_MEMBER_MAX_LINKS=1,
    )
    newcomer = make.user("brand_new_fan")  # untrusted and minutes old
    board = make.board("open-board")
    thread = make.thread(board=board, title="Open thread", replies=3)
    posts = db.scalars(select(Post.id).where(Post.thread_id == thread.id)).all()
    refused: list[str] = []

    def expect(what: str, response: TestResponse, status: int = 302) -> None:
        if response.status_code != status:
            refused.append(f"{what}: {response.status_code}")

    for n in range(3):
        expect(f"failed login {n}", log_in(app, newcomer.username, "wrong"), 200)
    expect("login after failures", log_in(app, newcomer.username, PASSWORD))
    for n in range(3):
        expect(
            f"sign-up {n}",
            visitor(app, "192.0.2.30").post(
                "/register",
                {
                    "username": f"open_{n}",
                    "email": f"open{n}@example.org",
                    "password": PASSWORD,
                    "confirm": PASSWORD,
                },
                page="/register",
            ),
        )
        expect(
            f"reset {n}",
            visitor(app, "192.0.2.30").post(
                "/reset", {"email": f"nobody{n}@example.org"}, page="/reset"
            ),
        )
    member = member_on(app, newcomer.username)
    new = f"/b/{board.slug}/new"
    links = " ".join(f"https://example.org/{n}" for n in range(5))
    for n in range(3):
        expect(
            f"thread {n}",
            member.post(new, {"title": f"Open thread {n}", "body": f"{links} {n}"}, page=new),
        )
        expect(f"reply {n}", member.post(f"/t/{thread.id}/reply", {"body": "Same words"}, page=new))
        expect(f"report {n}", member.post(f"/p/{posts[n]}/report", {"reason": "spam"}, page=new))
        expect(f"preview {n}", member.post("/preview", {"body": "Same words"}, page=new), 200)

    assert refused == []


# ------------------------------------------------------------------------------ new members


@pytest.fixture
def newcomer_app(make_app: AppFactory) -> Flask:
    return make_app(NEW_MEMBER_MAX_THREADS=2, NEW_MEMBER_MAX_LINKS=2, NEW_MEMBER_HOURS=24)


def sign_up(app: Flask, username: str) -> Browserish:
    client = visitor(app, "198.51.100.50")
    response = client.post(
        "/register",
        {
            "username": username,
            "email": f"{username}@example.org",
            "password": PASSWORD,
            "confirm": PASSWORD,
        },
        page="/register",
    )
    assert response.status_code == 302
    return client


def start_thread(client: Browserish, board: Board, title: str, body: str) -> TestResponse:
    new = f"/b/{board.slug}/new"
    return client.post(new, {"title": title, "body": body}, page=new)


def test_new_member_can_start_only_a_few_threads_on_day_one(
    newcomer_app: Flask, make: Factory, db: Session
) -> None:
    board = make.board("newcomer-board")
    client = sign_up(newcomer_app, "day_one_fan")

    answers = [
        start_thread(client, board, f"First-day thread {n}", f"Thoughts #{n}") for n in range(3)
    ]

    assert [r.status_code for r in answers[:2]] == [302, 302]
    refused = read(answers[2].get_data(as_text=True))
    assert answers[2].status_code == 200
    assert any("New members can start up to 2 threads" in e for e in refused.errors)
    assert kept_draft(answers[2]) == {"title": "First-day thread 2", "body": "Thoughts #2"}
    assert db.scalar(select(Thread).where(Thread.title == "First-day thread 2")) is None


def test_new_member_posts_only_a_few_links(newcomer_app: Flask, make: Factory) -> None:
    board = make.board("links-board")
    client = sign_up(newcomer_app, "linky_fan")
    three = "Watch https://a.example, https://b.example or [here](https://c.example)"

    refused = start_thread(client, board, "Where to watch", three)
    accepted = start_thread(
        client, board, "Where to watch it", "Watch https://a.example and https://b.example"
    )

    page = read(refused.get_data(as_text=True))
    assert refused.status_code == 200
    assert any("up to 2 links" in e for e in page.errors)
    assert kept_draft(refused)["body"] == three
    assert accepted.status_code == 302


def test_a_member_past_day_one_is_not_limited(
    newcomer_app: Flask, make: Factory, db: Session
) -> None:
    board = make.board("veteran-board")
    veteran = make.user("veteran_fan")
    veteran.created_at = utcnow() - timedelta(hours=25)
    db.commit()
    client = member_on(newcomer_app, veteran.username)
    links = "https://a.example https://b.example https://c.example"

    answers = [
        start_thread(client, board, f"Veteran thread {n}", f"{links} #{n}").status_code
        for n in range(3)
    ]

    assert answers == [302, 302, 302]


def test_a_trusted_cli_account_is_not_limited(newcomer_app: Flask, make: Factory) -> None:
    board = make.board("cli-board")
    result = newcomer_app.test_cli_runner().invoke(
        args=[
            "users",
            "create",
            "cli_fan",
            "--email",
            "cli_fan@example.org",
            "--password",
            PASSWORD,
        ]
    )
    assert result.exit_code == 0, result.output
    client = member_on(newcomer_app, "cli_fan")
    links = "https://a.example https://b.example https://c.example"

    answers = [
        start_thread(client, board, f"CLI thread {n}", f"{links} #{n}").status_code
        for n in range(3)
    ]

    assert answers == [302, 302, 302]


# ------------------------------------------------------------------------------ flood control


def test_the_same_words_twice_are_refused_within_the_window(
    make_app: AppFactory, make: Factory, db: Session
) -> None:
    app = make_app(FLOOD_WINDOW_SECONDS=300)
    thread = make.thread(title="Flooded thread")
    poster = trusted(make, db, "repeat_fan")
    client = member_on(app, poster.username)
    page = f"/t/{thread.id}/{thread.slug}"
    body = "First! Best episode ever."

    first = client.post(f"/t/{thread.id}/reply", {"body": body}, page=page)
    second = client.post(f"/t/{thread.id}/reply", {"body": body}, page=page)

    assert first.status_code == 302
    shown = read(second.get_data(as_text=True))
    assert second.status_code == 200
    assert any("You just posted exactly this" in e for e in shown.errors)
    assert kept_draft(second)["body"] == body
    assert len(db.scalars(select(Post).where(Post.source == body)).all()) == 1

    # Once the first copy is older than the window, the same words are welcome again.
    db.execute(
        update(Post).where(Post.source == body).values(created_at=utcnow() - timedelta(seconds=301))
    )
    db.commit()
    later = client.post(f"/t/{thread.id}/reply", {"body": body}, page=page)
    assert later.status_code == 302


def test_flood_control_covers_new_threads_too(
    make_app: AppFactory, make: Factory, db: Session
) -> None:
    app = make_app()
    board = make.board("flood-threads")
    poster = trusted(make, db, "copy_paste_fan")
    client = member_on(app, poster.username)

    first = start_thread(client, board, "Spam one", "Buy cheap box sets here")
    second = start_thread(client, board, "Spam two", "Buy cheap box sets here")

    assert first.status_code == 302
    assert second.status_code == 200
    assert any(
        "You just posted exactly this" in e for e in read(second.get_data(as_text=True)).errors
    )


# ------------------------------------------------------------------------------ closed sign-up


def test_closed_registration_creates_no_accounts(
    make_app: AppFactory, make: Factory, db: Session
) -> None:
    from forum.platform import settings

    app = make_app()
    admin = make.user("closing_admin")
    with app.app_context():
        settings.save(db, admin, "Showboard", "", False, "")
    db.commit()
    client = visitor(app, "198.51.100.60")
    closed = client.get("/register")
    assert closed.status_code == 403
    assert "Registration is closed" in closed.get_data(as_text=True)
    token = csrf_token(client.get("/login").get_data(as_text=True))

    response = client.client.post(
        "/register",
        data={
            "csrf_token": token,
            "username": "late_fan",
            "email": "late@example.org",
            "password": PASSWORD,
            "confirm": PASSWORD,
        },
    )

    assert response.status_code != 302
    assert db.scalar(select(User).where(User.username == "late_fan")) is None


# ------------------------------------------------------------------------------ evasion


@pytest.mark.parametrize(
    "disguise",
    [
        "vic\u200btim_fan",
        "victim_fan\u200b",
        "\u200dVICTIM_fan",
        "victim\x00_fan",
        " victim_fan\u2060",
    ],
)
def test_invisible_characters_do_not_make_a_new_account_key(
    cluster_factory: ClusterFactory, make: Factory, disguise: str
) -> None:
    """Login strips control and zero-width characters before looking the name up, so the
    limit must count 'vic\\u200btim' as 'victim', or every disguise gets fresh tries."""
    cluster = cluster_factory(LIMIT_LOGIN_ACCOUNT="3 per minute", LIMIT_LOGIN_IP=BIG)
    victim = make.user("victim_fan")

    for n in range(3):
        failed = log_in(cluster.pick(n), disguise, f"guess {n}", ip=f"203.0.113.{n + 40}")
        assert failed.status_code == 200

    disguised = log_in(cluster.pick(3), disguise, PASSWORD, ip="203.0.113.50")
    plain = log_in(cluster.pick(4), victim.username, PASSWORD, ip="203.0.113.51")

    assert is_friendly_429(disguised)
    assert is_friendly_429(plain)


# ------------------------------------------------------------------------------ mail bombing


def unverified_member(app: Flask, make: Factory, db: Session, name: str) -> Browserish:
    user = trusted(make, db, name)
    user.email_verified_at = None
    db.commit()
    return member_on(app, name)


def resend(client: Browserish) -> TestResponse:
    return client.post("/verify/resend", {"next": "/"}, page="/")


def test_confirmation_resends_are_limited_per_member(
    cluster_factory: ClusterFactory, make: Factory, db: Session
) -> None:
    cluster = cluster_factory(
        LIMIT_VERIFY_RESEND="2 per minute",
        LIMIT_MAIL_PER_ADDRESS=BIG,
        REQUIRE_EMAIL_VERIFICATION=True,
    )
    browsers = [
        unverified_member(app, make, db, "mailbomber") if n == 0 else member_on(app, "mailbomber")
        for n, app in enumerate(cluster.apps)
    ]
    other = unverified_member(cluster.apps[0], make, db, "patient_fan")

    answers = [resend(browsers[n % len(browsers)]) for n in range(3)]

    assert [r.status_code for r in answers[:2]] == [302, 302]
    assert is_friendly_429(answers[2])
    assert resend(other).status_code == 302, "the limit is per member"


def change_email(client: Browserish, address: str) -> TestResponse:
    return client.post(
        "/settings/email", {"em-email": address, "em-current_password": PASSWORD}, page="/settings"
    )


def test_email_changes_are_limited_per_member(
    cluster_factory: ClusterFactory, make: Factory, db: Session
) -> None:
    cluster = cluster_factory(
        LIMIT_EMAIL_CHANGE="2 per minute",
        LIMIT_MAIL_PER_ADDRESS=BIG,
        REQUIRE_EMAIL_VERIFICATION=True,
    )
    trusted(make, db, "address_hopper")

    # A change ends the member's other sessions, so each attempt logs in afresh.
    answers = [
        change_email(member_on(cluster.pick(n), "address_hopper"), f"hop{n}@example.org")
        for n in range(3)
    ]

    assert [r.status_code for r in answers[:2]] == [302, 302]
    assert is_friendly_429(answers[2])
    db.expire_all()
    assert (
        db.scalar(select(User.email).where(User.username == "address_hopper")) == "hop1@example.org"
    )


def test_mail_to_one_address_is_limited_whoever_asks(
    cluster_factory: ClusterFactory, make: Factory, db: Session
) -> None:
    """Several accounts take turns pointing their email at a stranger's address (each change
    mails a confirmation there), then one asks for resends: all of it is mail to one
    address."""
    cluster = cluster_factory(
        LIMIT_MAIL_PER_ADDRESS="3 per minute",
        LIMIT_EMAIL_CHANGE=BIG,
        LIMIT_VERIFY_RESEND=BIG,
        REQUIRE_EMAIL_VERIFICATION=True,
    )
    stranger = "Stranger@Example.org"
    attackers = [
        member_on(cluster.pick(n), trusted(make, db, f"bomber_{n}").username) for n in range(3)
    ]

    answers = []
    for n, attacker in enumerate(attackers[:2]):
        answers.append(change_email(attacker, stranger if n == 0 else stranger.lower()))
        answers.append(change_email(attacker, f"bomber{n}.back@example.org"))
    answers.append(change_email(attackers[2], stranger.upper()))
    refused_resend = resend(attackers[2])
    elsewhere = change_email(attackers[0], "someone.else@example.org")

    assert [r.status_code for r in answers] == [302, 302, 302, 302, 302]
    assert is_friendly_429(refused_resend), "a resend is mail to the same address"
    assert elsewhere.status_code == 302, "other addresses are not affected"


def test_every_registration_attempt_counts(cluster_factory: ClusterFactory, db: Session) -> None:
    cluster = cluster_factory(LIMIT_REGISTER="2 per minute")

    def register(n: int, confirm: str) -> TestResponse:
        return visitor(cluster.pick(n), "192.0.2.80").post(
            "/register",
            {
                "username": f"prober_{n}",
                "email": f"prober{n}@example.org",
                "password": PASSWORD,
                "confirm": confirm,
            },
            page="/register",
        )

    failed = [register(n, "not the same").status_code for n in range(2)]
    third = register(2, PASSWORD)

    assert failed == [200, 200]
    assert is_friendly_429(third)
    assert db.scalar(select(User).where(User.username == "prober_2")) is None


# ------------------------------------------------------------------------------ previews


def test_previews_from_every_form_share_one_limit(
    cluster_factory: ClusterFactory, make: Factory, db: Session
) -> None:
    """The limit is the default LIMIT_PREVIEWS (60 per minute), spent through /preview and the
    preview buttons of the reply, new-thread and edit forms: the 61st is refused."""
    cluster = cluster_factory()
    writer = trusted(make, db, "preview_spinner")
    board = make.board("preview-board")
    thread = make.thread(board=board, title="Previewed thread")
    own = make.reply(thread, writer, "My own words")
    browsers = [member_on(app, writer.username) for app in cluster.apps]
    tokens = [browser.token("/") for browser in browsers]
    paths = [
        ("/preview", {}),
        (f"/t/{thread.id}/reply", {"preview": "Preview"}),
        (f"/b/{board.slug}/new", {"title": "A title", "preview": "Preview"}),
        (f"/p/{own.id}/edit", {"preview": "Preview"}),
    ]

    def preview(n: int) -> TestResponse:
        url, extra = paths[n % len(paths)]
        form = {"csrf_token": tokens[n % len(browsers)], "body": f"Preview number {n}", **extra}
        return browsers[n % len(browsers)].client.post(url, data=form)

    answers = [preview(n).status_code for n in range(60)]
    refused = preview(61)  # through the reply form
    sent = browsers[0].post(
        f"/t/{thread.id}/reply",
        {"body": "Sent, not previewed"},
        page=f"/t/{thread.id}/{thread.slug}",
    )

    assert answers == [200] * 60
    assert refused.status_code == 429
    assert kept_draft(refused) == {"body": "Preview number 61"}
    assert "your text is kept" in read(refused.get_data(as_text=True)).text
    assert sent.status_code == 302, "sending a reply is not a preview"


# ------------------------------------------------------------------------------ search


def test_searches_and_suggestions_share_one_limit_per_address(
    cluster_factory: ClusterFactory, make: Factory
) -> None:
    """Full-text queries cost real work: LIMIT_SEARCH counts the results page and the header's
    suggestions together, per address, on every instance; another address is unaffected."""
    make.thread(board=make.board("searched-board"), title="Season two hopes")
    cluster = cluster_factory(LIMIT_SEARCH="3 per minute")
    scraper = [visitor(app, "192.0.2.41") for app in cluster.apps]
    paths = ["/search?q=season", "/search/suggest?q=season", "/search?q=hopes", "/search?q=two"]
    paths.append("/search/suggest?q=two")

    answers = [scraper[n % len(scraper)].get(path).status_code for n, path in enumerate(paths)]

    assert answers == [200, 200, 200, 429, 429]
    refused = scraper[0].get("/search?q=again")
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert visitor(cluster.apps[0], "192.0.2.42").get("/search?q=season").status_code == 200
    # Pages that only read the cache are not limited.
    assert scraper[0].get("/").status_code == 200
