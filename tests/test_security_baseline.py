"""The security floor every page stands on: headers, production settings, CSRF on every POST,
no template injection, oversized and malformed requests answered politely."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import TestResponse

from forum import create_app
from forum.accounts import tokens
from forum.db import Base
from forum.models import Post, Report, ReportReason, Role, Thread, User
from forum.platform.config import ConfigError
from tests.conftest import PASSWORD, Browserish, Factory

INJECTIONS = ["{{7*7}}", "{% print 1 %}"]
ATTACKER = "{{7*7}} and {% print 1 %}"


class PageText(HTMLParser):
    """The text a reader sees (no tags, attributes, scripts or styles)."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("script", "style")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)

    @property
    def text(self) -> str:
        return " ".join(self.parts)


def page_text(response: TestResponse) -> str:
    return PageText(response.get_data(as_text=True)).text


def directives(policy: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for directive in policy.split(";"):
        name, *values = directive.split()
        found[name.lower()] = values
    return found


@dataclass
class Site:
    """A small forum to aim requests at: an admin's board, thread and post, and a victim."""

    board_slug: str
    other_board_id: int
    thread_id: int
    thread_slug: str
    post_id: int
    admin: User
    victim: User

    def url(self, template: str) -> str:
        return template.format(slug=self.board_slug, thread_id=self.thread_id,
                               thread_slug=self.thread_slug, post_id=self.post_id,
                               username=self.victim.username)


@pytest.fixture
def site(make: Factory, db: Session) -> Site:
    admin = make.user("admin_ada", role=Role.ADMIN)
    victim = make.user("victim_vic")
    board = make.board("partner-track", name="Partner Track")
    other = make.board("severance", name="Severance")
    thread = make.thread(board=board, author=admin, title="Will Partner Track get a season 2?",
                         replies=1)
    post = make.reply(thread, victim, "A reply from the victim")
    db.add(Report(post_id=post.id, reporter_id=victim.id, reason=ReportReason.SPAM.value))
    db.commit()
    return Site(board.slug, other.id, thread.id, thread.slug, post.id, admin, victim)


# ------------------------------------------------------------------------------ headers

HTML_PAGES = [
    pytest.param("GET", "/", 200, id="index"),
    pytest.param("GET", "/b/{slug}", 200, id="board"),
    pytest.param("GET", "/t/{thread_id}/{thread_slug}", 200, id="thread"),
    pytest.param("GET", "/login", 200, id="login"),
    pytest.param("GET", "/register", 200, id="register"),
    pytest.param("GET", "/u/{username}", 200, id="profile"),
    pytest.param("GET", "/search?q=season", 200, id="search"),
    pytest.param("GET", "/no-such-page", 404, id="404"),
    pytest.param("GET", "/b/no-such-board", 404, id="404-board"),
    pytest.param("GET", "/logout", 405, id="405"),
    pytest.param("POST", "/login", 400, id="400-csrf"),
]


@pytest.mark.parametrize("method, template, status", HTML_PAGES)
def test_html_response_has_a_strict_content_security_policy(
    client: Browserish, site: Site, method: str, template: str, status: int
) -> None:
    response = client.client.open(site.url(template), method=method)

    assert response.status_code == status
    assert response.mimetype == "text/html"
    policy = directives(response.headers["Content-Security-Policy"])
    scripts = policy.get("script-src", policy.get("default-src", []))
    assert scripts, "no script-src or default-src"
    assert "'unsafe-inline'" not in scripts
    assert "'unsafe-eval'" not in scripts
    assert policy.get("frame-ancestors") == ["'none'"]


@pytest.mark.parametrize("method, template, status", HTML_PAGES)
def test_html_response_forbids_sniffing_and_sets_a_referrer_policy(
    client: Browserish, site: Site, method: str, template: str, status: int
) -> None:
    response = client.client.open(site.url(template), method=method)

    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    assert response.headers.get("Referrer-Policy") in {
        "no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin",
    }


@pytest.mark.parametrize("method, template, status", HTML_PAGES)
def test_development_sends_no_hsts(
    client: Browserish, site: Site, method: str, template: str, status: int
) -> None:
    response = client.client.open(site.url(template), method=method)

    assert "Strict-Transport-Security" not in response.headers


# ------------------------------------------------------------------------------ production


def production_config(database_url: str, **extra: Any) -> dict[str, Any]:
    return {"ENV": "production", "DATABASE_URL": database_url, "TESTING": True,
            "RATE_LIMITS": "off", "PUBLIC_URL": "https://localhost",
            "SMTP_URL": "smtp://127.0.0.1:2525", **extra}


@pytest.mark.parametrize("secret", [None, ""])
def test_production_without_secret_key_refuses_to_start(
    database_url: str, monkeypatch: pytest.MonkeyPatch, secret: str | None
) -> None:
    monkeypatch.delenv("FORUM_SECRET_KEY", raising=False)
    config = production_config(database_url)
    if secret is not None:
        config["SECRET_KEY"] = secret

    with pytest.raises(ConfigError):
        create_app(config)


@pytest.fixture
def production(database_url: str, connection: Connection) -> FlaskClient:
    """A production app over HTTPS, on the test's transaction."""
    app = create_app(production_config(database_url, SECRET_KEY="a long production secret"))
    app.extensions["forum.sessionmaker"] = sessionmaker(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )
    return app.test_client()


HTTPS = {"base_url": "https://localhost"}


def cookie_flags(response: TestResponse, name: str) -> list[str]:
    [cookie] = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{name}=")]
    return [part.strip().lower() for part in cookie.split(";")[1:]]


def production_login(client: FlaskClient, username: str) -> TestResponse:
    html = client.get("/login", **HTTPS).get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert token
    # Over HTTPS, Flask-WTF also checks that the Referer is this site, as a browser sends it.
    return client.post("/login", data={"csrf_token": token.group(1), "username": username,
                                       "password": PASSWORD, "remember": "y"},
                       headers={"Referer": "https://localhost/login"}, **HTTPS)


def test_production_session_cookie_is_secure(production: FlaskClient) -> None:
    response = production.get("/login", **HTTPS)

    assert "secure" in cookie_flags(response, "session")


def test_production_remember_cookie_is_secure(production: FlaskClient, make: Factory) -> None:
    make.user("prod_fan")

    response = production_login(production, "prod_fan")

    assert response.status_code == 302
    assert "secure" in cookie_flags(response, "remember_token")


def test_production_sends_hsts(production: FlaskClient) -> None:
    response = production.get("/", **HTTPS)

    hsts = response.headers.get("Strict-Transport-Security", "")
    max_age = re.search(r"max-age=(\d+)", hsts)
    assert max_age and int(max_age.group(1)) >= 15_552_000  # at least 180 days


# ------------------------------------------------------------------------------ CSRF


def _post_rules() -> list[str]:
    app = create_app({"DATABASE_URL": "sqlite://", "SECRET_KEY": "rules only",
                      "RATE_LIMITS": "off"})
    return sorted({rule.rule for rule in app.url_map.iter_rules() if "POST" in rule.methods})


POST_RULES = _post_rules()


def test_post_rules_are_enumerated() -> None:
    # Guards the parametrization below: an empty or partial list would test nothing.
    assert {"/login", "/logout", "/register", "/b/<slug>/new", "/t/<int:thread_id>/reply",
            "/p/<int:post_id>/edit", "/p/<int:post_id>/delete", "/settings/password",
            "/settings/email"} <= set(POST_RULES)


def forged_payload(site: Site) -> dict[str, Any]:
    """Every field a state-changing form here reads, filled in as an attacker would."""
    return {
        "title": "Forged title", "body": "Forged body", "details": "Forged details",
        "username": site.victim.username, "password": PASSWORD, "remember": "y",
        "email": "forged@example.org", "confirm": "forged passphrase",
        "new_password": "forged passphrase", "current_password": PASSWORD,
        "pw-current_password": PASSWORD, "pw-new_password": "forged passphrase",
        "pw-confirm": "forged passphrase", "em-email": "forged@example.org",
        "em-current_password": PASSWORD,
        "action": "lock", "reason": "spam", "resolution": "Forged", "board": site.other_board_id,
        "duration": "ban", "days": "3650", "role": "admin", "direction": "down",
        "slug": "forged-board", "name": "Forged board", "description": "Forged",
        "network": "Forged", "status": "ended", "premiered": "2000", "facts": "forged: yes",
        "site_name": "Forged", "tagline": "Forged", "registration": "closed",
        "rules_markdown": "Forged", "post": "1", "del-password": PASSWORD,
    }


# Where one field name means different things on different forms.
PAYLOAD_OVERRIDES: dict[str, dict[str, Any]] = {
    "/mod/reports/<int:post_id>": {"action": "resolve"},
}


def rule_url(rule: str, site: Site, token: str) -> str:
    values = {"slug": site.board_slug, "thread_id": site.thread_id, "post_id": site.post_id,
              "username": site.victim.username, "token": token}

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in values, f"no test value for <{name}> in {rule}: add one"
        return quote(str(values[name]))

    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", value, rule)


def reset_token(app: Flask, user: User) -> str:
    with app.test_request_context():
        return tokens.reset_token(user)


def database_rows(db: Session) -> dict[str, list[tuple[Any, ...]]]:
    return {
        table.name: [tuple(row) for row in db.execute(
            select(table).order_by(*table.primary_key.columns))]
        for table in Base.metadata.sorted_tables
    }


@pytest.fixture(params=["anonymous", "admin"])
def visitor(request: pytest.FixtureRequest, client: Browserish, site: Site) -> Browserish:
    if request.param == "admin":
        client.login(site.admin.username)
    else:
        client.get("/login")  # a session with a CSRF secret, but no token in the form
    return client


@pytest.mark.parametrize("rule", POST_RULES)
def test_post_without_csrf_token_changes_nothing(
    app: Flask, visitor: Browserish, site: Site, db: Session, rule: str
) -> None:
    url = rule_url(rule, site, reset_token(app, site.victim))
    before = database_rows(db)

    response = visitor.raw_post(url, {**forged_payload(site), **PAYLOAD_OVERRIDES.get(rule, {})})

    assert response.status_code < 500
    assert database_rows(db) == before


def header_user(client: Browserish) -> list[str]:
    return re.findall(r'class="user-chip"[^>]*>', client.get("/").get_data(as_text=True))


@pytest.mark.parametrize("rule", POST_RULES)
def test_post_without_csrf_token_keeps_the_visitor_who_they_were(
    app: Flask, visitor: Browserish, site: Site, rule: str
) -> None:
    url = rule_url(rule, site, reset_token(app, site.victim))
    before = header_user(visitor)

    visitor.raw_post(url, {**forged_payload(site), **PAYLOAD_OVERRIDES.get(rule, {})})

    assert header_user(visitor) == before


@pytest.mark.parametrize(
    "rule",
    ["/b/<slug>/new", "/t/<int:thread_id>/reply", "/p/<int:post_id>/edit",
     "/p/<int:post_id>/delete", "/settings/password", "/settings/email", "/logout"],
)
def test_forged_payload_would_change_state_without_csrf_protection(
    app: Flask, client: Browserish, site: Site, db: Session, rule: str
) -> None:
    # The control for the two tests above: with CSRF switched off the same payload does
    # change the database, so their "nothing changed" means the token check stopped it.
    client.login(site.admin.username)
    app.config["WTF_CSRF_ENABLED"] = False
    before = database_rows(db)

    client.raw_post(rule_url(rule, site, ""), forged_payload(site))

    assert database_rows(db) != before


# ------------------------------------------------------------------------------ template injection


@pytest.fixture
def injected_thread(member_client: Browserish, make: Factory, db: Session) -> Thread:
    board = make.board("partner-track")
    new = f"/b/{board.slug}/new"
    response = member_client.post(new, {"title": ATTACKER, "body": ATTACKER}, page=new)
    assert response.status_code == 302
    thread = db.scalar(select(Thread).where(Thread.board_id == board.id))
    assert thread is not None
    return thread


@pytest.mark.parametrize("page", ["thread", "board"])
def test_template_syntax_in_title_renders_literally(
    member_client: Browserish, injected_thread: Thread, page: str
) -> None:
    url = (f"/t/{injected_thread.id}/{injected_thread.slug}" if page == "thread"
           else "/b/partner-track")

    text = page_text(member_client.get(url))

    for injection in INJECTIONS:
        assert injection in text
    assert "49" not in text


def test_template_syntax_in_body_renders_literally(
    member_client: Browserish, injected_thread: Thread, db: Session
) -> None:
    post = db.scalar(select(Post).where(Post.thread_id == injected_thread.id))
    assert post is not None
    assert post.source == ATTACKER

    response = member_client.get(f"/t/{injected_thread.id}/{injected_thread.slug}")

    assert f"<p>{ATTACKER}</p>" in response.get_data(as_text=True)


def test_template_syntax_in_reply_and_preview_renders_literally(
    member_client: Browserish, injected_thread: Thread
) -> None:
    url = f"/t/{injected_thread.id}/{injected_thread.slug}"

    response = member_client.post("/preview", {"body": ATTACKER}, page=url)

    assert response.status_code == 200
    assert ATTACKER in response.get_data(as_text=True)
    assert "49" not in page_text(response)


def test_template_syntax_in_username_renders_literally(client: Browserish, db: Session) -> None:
    response = client.post("/register", {"username": ATTACKER, "email": "fan@example.org",
                                         "password": PASSWORD, "confirm": PASSWORD},
                           page="/register")

    html = response.get_data(as_text=True)
    assert 'value="{{7*7}} and {% print 1 %}"' in html
    assert "49" not in page_text(response)
    assert db.scalar(select(func.count()).select_from(User)) == 0


def test_template_syntax_in_board_name_renders_literally(
    client: Browserish, make: Factory
) -> None:
    make.board("injected", name=ATTACKER, description=ATTACKER, network="{{7*7}}")

    text = page_text(client.get("/"))

    assert ATTACKER in text
    assert "49" not in text


def test_template_syntax_in_search_renders_literally(client: Browserish) -> None:
    response = client.get("/search", query_string={"q": ATTACKER})

    assert response.status_code == 200
    assert 'value="{{7*7}} and {% print 1 %}"' in response.get_data(as_text=True)


# ------------------------------------------------------------------------------ oversized bodies

TEN_MEGABYTES = 10 * 1024 * 1024


@pytest.mark.parametrize(
    "url, page, logged_in",
    [
        ("/login", "/login", False),
        ("/register", "/register", False),
        ("/b/{slug}/new", "/b/{slug}/new", True),
        ("/t/{thread_id}/reply", "/t/{thread_id}/{thread_slug}", True),
        ("/preview", "/t/{thread_id}/{thread_slug}", True),
    ],
)
def test_ten_megabyte_body_is_refused_with_a_friendly_413(
    client: Browserish, site: Site, db: Session, url: str, page: str, logged_in: bool
) -> None:
    if logged_in:
        client.login(site.admin.username)
    rows = database_rows(db)

    response = client.post(site.url(url), {"title": "Big", "body": "x" * TEN_MEGABYTES},
                           page=site.url(page))

    assert response.status_code == 413
    assert response.mimetype == "text/html"
    assert "too big" in page_text(response).lower()
    assert database_rows(db) == rows


# ------------------------------------------------------------------------------ malformed input

# Invalid UTF-8 as a browser can't send it but an attacker can: percent-encoded, and raw bytes.
ENCODED_BAD = b"Season%FF%FE two %C3%28 end"
RAW_BAD = b"Season \xff\xfe two \xc3\x28 end"
FIELDS = [b"title", b"body", b"username", b"email", b"password", b"confirm", b"em-email",
          b"em-current_password", b"pw-current_password", b"pw-new_password", b"pw-confirm",
          b"next"]

FORMS = [
    pytest.param("/login", "/login", False, id="login"),
    pytest.param("/register", "/register", False, id="register"),
    pytest.param("/b/{slug}/new", "/b/{slug}/new", True, id="new-thread"),
    pytest.param("/t/{thread_id}/reply", "/t/{thread_id}/{thread_slug}", True, id="reply"),
    pytest.param("/preview", "/t/{thread_id}/{thread_slug}", True, id="preview"),
    pytest.param("/settings/email", "/settings", True, id="settings-email"),
    pytest.param("/settings/password", "/settings", True, id="settings-password"),
]


def urlencoded(token: str, value: bytes) -> bytes:
    return b"&".join([b"csrf_token=" + token.encode(), *(name + b"=" + value for name in FIELDS)])


def multipart(token: str, value: bytes) -> bytes:
    parts = [(b"csrf_token", token.encode()), *((name, value) for name in FIELDS)]
    return b"".join(b'--X\r\nContent-Disposition: form-data; name="' + name + b'"\r\n\r\n'
                    + data + b"\r\n" for name, data in parts) + b"--X--\r\n"


MULTIPART = "multipart/form-data; boundary=X"
URLENCODED = "application/x-www-form-urlencoded"


def sender(client: Browserish, site: Site, logged_in: bool) -> Browserish:
    if logged_in:
        client.login(site.victim.username)
    return client


@pytest.mark.parametrize("url, page, logged_in", FORMS)
def test_percent_encoded_invalid_utf8_in_form_is_handled(
    client: Browserish, site: Site, url: str, page: str, logged_in: bool
) -> None:
    visitor = sender(client, site, logged_in)
    body = urlencoded(visitor.token(site.url(page)), ENCODED_BAD)

    response = visitor.client.post(site.url(url), data=body, content_type=URLENCODED)

    assert response.status_code in (200, 302)  # the view answered, not an error page


@pytest.mark.parametrize("url, page, logged_in", FORMS)
def test_raw_invalid_utf8_in_urlencoded_form_never_5xx(
    client: Browserish, site: Site, url: str, page: str, logged_in: bool
) -> None:
    visitor = sender(client, site, logged_in)
    body = urlencoded(visitor.token(site.url(page)), RAW_BAD)

    response = visitor.client.post(site.url(url), data=body, content_type=URLENCODED)

    assert response.status_code < 500


@pytest.mark.parametrize("url, page, logged_in", FORMS)
def test_raw_invalid_utf8_in_multipart_form_is_handled(
    client: Browserish, site: Site, url: str, page: str, logged_in: bool
) -> None:
    visitor = sender(client, site, logged_in)
    body = multipart(visitor.token(site.url(page)), RAW_BAD)

    response = visitor.client.post(site.url(url), data=body, content_type=MULTIPART)

    assert response.status_code in (200, 302)


@pytest.mark.parametrize("value, content_type", [(ENCODED_BAD, URLENCODED),
                                                 (RAW_BAD, MULTIPART)])
def test_thread_with_invalid_utf8_is_stored_as_valid_text(
    client: Browserish, site: Site, db: Session, value: bytes, content_type: str
) -> None:
    visitor = sender(client, site, logged_in=True)
    new = site.url("/b/{slug}/new")
    token = visitor.token(new)
    body = (urlencoded if content_type == URLENCODED else multipart)(token, value)

    response = visitor.client.post(new, data=body, content_type=content_type)

    assert response.status_code == 302
    thread = db.scalar(select(Thread).order_by(Thread.id.desc()).limit(1))
    assert thread is not None and thread.id != site.thread_id
    assert thread.title.startswith("Season") and thread.title.endswith("end")
    assert thread.title.encode("utf-8").decode("utf-8") == thread.title


@pytest.mark.parametrize(
    "url",
    ["/b/%FF", "/u/%FF%FE", "/t/1/%C3%28", "/search?q=%FF%FE", "/login?next=%FF",
     "/b/partner-track?page=%FF", "/t/1?page=%FF"],
)
def test_invalid_utf8_in_url_never_5xx(client: Browserish, site: Site, url: str) -> None:
    assert client.get(url).status_code < 500


@pytest.mark.parametrize(
    "url",
    [
        "/b/%00",
        "/b/%00/new",
        "/u/%00",
        "/u/fan%00",
        "/search?q=%00",
        "/login?next=/%00",
        "/t/1/%00",
    ],
)
def test_nul_byte_in_url_never_5xx(client: Browserish, site: Site, url: str) -> None:
    assert client.get(url).status_code < 500

