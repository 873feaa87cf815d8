"""The site's name and tagline, as an admin sets them at /admin/settings, are what members see
(issue 11, defects 5 and 8): the welcome message, every account mail's subject, body and sender
name, the header, the index page's title area and the page description.

Mail is built in a job (forum/platform/jobs.py), so the name is read there: a mail queued before a
rename goes out under the new name."""

from __future__ import annotations

from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from forum.models import Role
from tests.conftest import PASSWORD, Browserish, Factory
from tests.mail_server import (  # noqa: F401 (fixtures)
    Inbox,
    SmtpServer,
    inbox_fixture,
    only,
    queue_on_disk,
    run_queue,
    smtp_server_fixture,
)

NEW_NAME = "Fanboard"
TAGLINE = 'Where <b>fans</b> & "theorists" argue about renewals'
ESCAPED_TAGLINE = "Where &lt;b&gt;fans&lt;/b&gt; &amp; &#34;theorists&#34; argue about renewals"


def fresh(app: Flask) -> Browserish:
    return Browserish(app.test_client())


def save_settings(app: Flask, make: Factory, site_name: str, tagline: str = "") -> None:
    admin = fresh(app)
    admin.login(make.user(role=Role.ADMIN).username)
    response = admin.post(
        "/admin/settings",
        {"site_name": site_name, "tagline": tagline, "registration": "open"},
        page="/admin/settings",
    )
    assert response.status_code == 302


def sender(message: EmailMessage) -> Address:
    return message["From"].addresses[0]


def request_reset(app: Flask, email: str) -> None:
    assert fresh(app).post("/reset", {"email": email}, page="/reset").status_code == 302


def sign_up(client: Browserish, username: str) -> None:
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


# ------------------------------------------------------------------------------ mail


def test_the_reset_mail_carries_the_new_name_in_subject_and_sender(
    app: Flask, make: Factory, inbox: Inbox
) -> None:
    fan = make.user("renamed_fan")
    save_settings(app, make, NEW_NAME)

    request_reset(app, fan.email)

    message = only(inbox.to(fan.email))
    assert message["Subject"] == f"Reset your {NEW_NAME} password"
    assert sender(message).display_name == NEW_NAME
    # The address stays the configured one: only the name follows the setting.
    assert sender(message).addr_spec == "no-reply@showboard.local"


def test_a_mail_queued_before_a_rename_is_built_with_the_new_name(
    app: Flask, make: Factory, inbox: Inbox, tmp_path: Path
) -> None:
    huey = queue_on_disk(app, tmp_path)
    fan = make.user("queued_fan")
    request_reset(app, fan.email)
    save_settings(app, make, NEW_NAME)

    run_queue(huey)

    message = only(inbox.to(fan.email))
    assert NEW_NAME in message["Subject"] and "Showboard" not in message["Subject"]
    assert sender(message).display_name == NEW_NAME


def test_the_sign_up_link_and_taken_address_notice_use_the_new_name(
    app: Flask, make: Factory, inbox: Inbox
) -> None:
    app.config["REQUIRE_EMAIL_VERIFICATION"] = True
    owner = make.user("address_owner")
    save_settings(app, make, NEW_NAME)

    sign_up(fresh(app), "new_fan")
    assert (
        fresh(app)
        .post(
            "/register",
            {
                "username": "copycat_fan",
                "email": owner.email,
                "password": PASSWORD,
                "confirm": PASSWORD,
            },
            page="/register",
        )
        .status_code
        == 302
    )

    link_mail = only(inbox.to("new_fan@example.org"))
    notice = only(inbox.to(owner.email))
    for message in (link_mail, notice):
        assert NEW_NAME in message["Subject"], message["Subject"]
        assert "Showboard" not in message["Subject"] + message.get_content()
        assert sender(message).display_name == NEW_NAME
    assert f"create your {NEW_NAME} account" in link_mail.get_content()


def test_the_verification_mail_uses_the_new_name(
    app: Flask, make: Factory, db: Session, inbox: Inbox
) -> None:
    app.config["REQUIRE_EMAIL_VERIFICATION"] = True
    save_settings(app, make, NEW_NAME)
    unconfirmed = make.user("unconfirmed_fan")
    unconfirmed.email_verified_at = None
    db.commit()
    member = fresh(app)
    member.login(unconfirmed.username)

    assert member.post("/verify/resend", {}, page="/settings").status_code == 302

    message = only(inbox.to("unconfirmed_fan@example.org"))
    assert message["Subject"] == f"Confirm your email for {NEW_NAME}"
    assert sender(message).display_name == NEW_NAME


def test_a_sender_name_the_operator_chose_is_kept(app: Flask, make: Factory, inbox: Inbox) -> None:
    app.config["MAIL_FROM"] = "Fan Desk <desk@example.org>"
    fan = make.user("desk_fan")
    save_settings(app, make, NEW_NAME)

    request_reset(app, fan.email)

    message = only(inbox.to(fan.email))
    assert (sender(message).display_name, sender(message).addr_spec) == (
        "Fan Desk",
        "desk@example.org",
    )
    assert message["Subject"] == f"Reset your {NEW_NAME} password"


# ------------------------------------------------------------------------------ pages


def test_the_welcome_message_uses_the_new_name(app: Flask, make: Factory) -> None:
    app.config["REQUIRE_EMAIL_VERIFICATION"] = False
    save_settings(app, make, NEW_NAME)
    client = fresh(app)

    sign_up(client, "welcomed_fan")

    page = client.get("/").get_data(as_text=True)
    assert f"Welcome to {NEW_NAME}, welcomed_fan" in page
    assert "Showboard" not in page


@pytest.mark.parametrize("path", ["/", "/login", "/register", "/reset", "/mod/log", "/search"])
def test_no_page_shows_the_old_name_after_a_rename(app: Flask, make: Factory, path: str) -> None:
    save_settings(app, make, NEW_NAME)

    page = fresh(app).get(path)

    assert page.status_code == 200
    assert b"Showboard" not in page.data
    assert NEW_NAME.encode() in page.data


def test_the_tagline_shows_in_the_header_the_index_and_the_description(
    app: Flask, make: Factory
) -> None:
    save_settings(app, make, NEW_NAME, TAGLINE)

    index = fresh(app).get("/").data.decode()
    board_page = fresh(app).get("/login").data.decode()

    assert f'<meta name="description" content="{ESCAPED_TAGLINE}">' in index
    assert f'<p class="lede site-tagline">{ESCAPED_TAGLINE}</p>' in index
    assert f'<span class="brand-tagline">{ESCAPED_TAGLINE}</span>' in board_page
    assert f'<meta name="description" content="{ESCAPED_TAGLINE}">' in board_page
    assert "<b>fans</b>" not in index + board_page


def test_without_a_tagline_there_is_no_empty_description(app: Flask, make: Factory) -> None:
    save_settings(app, make, NEW_NAME, "")

    index = fresh(app).get("/").data.decode()

    assert '<meta name="description"' not in index
    assert "brand-tagline" not in index
    assert "Pick a show, join the debate." in index
