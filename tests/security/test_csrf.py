"""Cross-site request forgery: every route that accepts POST, found in the app's URL map, is
sent a forged request by a logged-in admin's browser (so permissions are not what refuses it):
without a token, with a made-up token, and with a real token from someone else's session; and
without a token by a visitor. Both stay who they were.
Each must be refused with the plain 400 page, which echoes nothing and sets no cookie, and
change nothing: the row counts and checksums of every table are compared before and after.

Then the same form is sent with the right token and must get through, so the forms here are
ones that work: the refusals are the CSRF check's doing.
"""

from __future__ import annotations

import secrets

import pytest
from flask import Flask
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from forum.accounts import tokens
from forum.conversation import email_choices
from forum.models import User
from tests.conftest import Browserish, browser_for, who
from tests.html_scan import read
from tests.security.targets import (
    FORMS,
    Forum,
    changed_tables,
    route_url,
    rules,
    rules_only_app,
    snapshot,
)

POST_RULES = rules(rules_only_app(), "POST")

# Routes whose accepted form changes no rows, and why.
NO_ROWS_CHANGE = {
    "/b/<slug>/episodes/open": "the board has no aired episode without its thread (a notice)",
    "/mod/users/<username>/board-lift": "victor has no board suspension to lift",
    "/preview": "it only renders Markdown",
    "/reset": "it only sends mail (and the control aims at an unknown address: no mail)",
    "/verify/resend": "the admin's address is already confirmed: nothing to send",
    "/register": "a logged-in member is sent to the index",
    "/login/second-factor": "a signed-in admin has no login waiting for a second factor",
    "/settings/security/passkeys/remove": "the admin has no passkey 1 (answered with a notice)",
    "/settings/security/recovery-codes": "the admin has no second factor to make codes for",
    "/settings/security/totp": "no app is being set up, and the code is wrong anyway",
    "/settings/security/totp/disable": "the admin has no app to turn off",
    "/settings/sessions/end": "no session has that id (answered with a notice)",
    "/settings/sessions/end-others": "the admin is signed in on one device only",
    "/u/<username>/unmute": "the admin never muted victor",
}
# WebAuthn ceremonies (JSON, token in X-CSRFToken): the forged requests must be refused like
# any form, but a control needs a browser's signed answer, so tests/test_passkeys.py sends
# them with the token and checks what they do.
CEREMONIES = {
    "/login/passkey",
    "/login/passkey/options",
    "/login/second-factor/passkey",
    "/login/second-factor/passkey/options",
    "/settings/security/passkeys",
    "/settings/security/passkeys/options",
}
# The control run of /reset names no account, so it writes no mail into instance/outbox/.
CONTROL_OVERRIDES = {"/reset": {"email": "nobody-here@example.org"}}


def reset_link_token(app: Flask, user: User) -> str:
    with app.test_request_context():
        return tokens.reset_token(user)


def link_token(app: Flask, rule: str, forum: Forum) -> str:
    """The token in the rule's link: the admin's own unsubscribe link (a control that works),
    else victor's password reset link."""
    if rule == "/unsubscribe/<token>":
        with app.test_request_context():
            return email_choices.unsubscribe_token(forum.admin, "all")
    return reset_link_token(app, forum.victor)


def is_csrf_refusal(response: TestResponse) -> bool:
    """The test client sends no Origin, Referer or Sec-Fetch-Site, so a token-less POST counts
    as not from this site (forum/platform/origin.py): the plain refusal, with no cookie set."""
    page = read(response.get_data(as_text=True))
    return (
        response.status_code == 400
        and "This form came from another site; nothing was done." in page.text
        and not response.headers.getlist("Set-Cookie")
    )


def test_post_routes_are_all_covered() -> None:
    assert len(POST_RULES) >= 25, "the URL map looks incomplete"
    missing = sorted(set(POST_RULES) - set(FORMS))
    stale = sorted(set(FORMS) - set(POST_RULES))
    assert not missing, f"new POST routes without a forged request in FORMS: {missing}"
    assert not stale, f"FORMS names routes that no longer accept POST: {stale}"


@pytest.mark.parametrize("rule", POST_RULES)
def test_forged_post_is_refused_and_changes_nothing(
    app: Flask, forum: Forum, db: Session, rule: str
) -> None:
    assert rule in FORMS, f"new POST route {rule}: add its form to FORMS"
    admin = browser_for(app, forum.admin.username)
    someone_else = Browserish(app.test_client()).token("/login")
    url = route_url(rule, forum.main, token=link_token(app, rule, forum))
    form = FORMS[rule](forum.main)
    before = snapshot(db)

    for variant, token in [
        ("no token", None),
        ("made-up token", secrets.token_urlsafe(40)),
        ("another session's token", someone_else),
    ]:
        data = form if token is None else {**form, "csrf_token": token}
        response = admin.client.post(url, data=data)
        assert is_csrf_refusal(response), (
            f"{variant}: {rule} answered {response.status_code}, not the CSRF refusal"
        )
    # A visitor whose session holds a CSRF secret but whose form carries no token: refused
    # the same way, and still nobody afterwards (a forged /login signs no one in).
    visitor = Browserish(app.test_client())
    visitor.get("/login")
    response = visitor.client.post(url, data=form)
    assert is_csrf_refusal(response), f"visitor: {rule} answered {response.status_code}"
    assert who(visitor) is None
    assert who(admin) == forum.admin.username, f"a forged {rule} changed who the admin is"

    assert changed_tables(before, snapshot(db)) == [], f"forged {rule} changed rows"
    if rule in CEREMONIES:
        return

    # Control: the same form with the right token goes through, so the refusals above were the
    # CSRF check's doing and not a broken form.
    response = admin.post(url, {**form, **CONTROL_OVERRIDES.get(rule, {})}, page="/settings")
    assert response.status_code < 400, (
        f"{rule} refused the control request ({response.status_code}): fix its form in FORMS"
    )
    if rule not in NO_ROWS_CHANGE:
        assert changed_tables(before, snapshot(db)), f"{rule} accepted the form but did nothing"
