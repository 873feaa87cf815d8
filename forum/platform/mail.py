"""Sending email, always through a background job (forum/platform/jobs.py): a request only queues
the
message, so a slow or broken SMTP server never holds or fails it. The job delivers by SMTP when
FORUM_SMTP_URL is set; otherwise (development) each message is printed to the console and
written to instance/outbox/ so a newcomer can click its link. A failed delivery is retried with
exponential backoff (see `deliver`) and, when every try fails, recorded for admins.

FORUM_SMTP_URL forms: smtp://user:pass@host:587?starttls=true, smtps://user:pass@host:465,
smtp://localhost:1025 (no auth, no TLS).
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formataddr, parseaddr
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from flask import current_app

from forum.db import db_session
from forum.platform import jobs, settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str
    # Extra headers, (name, value) pairs: List-Unsubscribe on notification mail.
    headers: tuple[tuple[str, str], ...] = ()


def send(mail: Mail) -> None:
    """Queue `mail` for delivery. Call it after the request's commit."""
    if mail.headers:
        # As lists: the job's arguments go through the queue's serializer.
        deliver.enqueue(mail.to, mail.subject, mail.body, [list(pair) for pair in mail.headers])
    else:
        deliver.enqueue(mail.to, mail.subject, mail.body)


def site_name() -> str:
    """The name an admin gave the site, for subjects, bodies and the sender's display name. Read
    where each part is built (the subject in a request or a job, the sender in `deliver`), so a
    renamed site mails under its new name."""
    return settings.get_settings(db_session()).site_name


def _sender(configured: str, default_site_name: str, sender_name: str) -> str:
    """FORUM_MAIL_FROM gives the address. Its display name, when it is just the default site
    name (FORUM_SITE_NAME, as out of the box) or missing, becomes the site's current name; a
    name an operator chose for the sender on purpose is kept."""
    configured_name, address = parseaddr(configured)
    if not address or configured_name not in ("", default_site_name):
        return configured
    return formataddr((sender_name, address))


def _summary(to: str, subject: str, _body: str, _headers: object = ()) -> str:
    # The body and the headers hold one-time or unsubscribe links: never kept with a failure.
    return f"to={to} subject={subject!r}"


# Five tries over an hour: at once, then after 4, 8, 16 and 32 more minutes
# (FORUM_MAIL_RETRY_SECONDS sets the first wait; the others double it).
@jobs.task(
    retries=4,
    retry_delay=240,
    backoff=2,
    summary=_summary,
    retry_delay_setting="MAIL_RETRY_SECONDS",
)
def deliver(to: str, subject: str, body: str, headers: Sequence[Sequence[str]] = ()) -> None:
    message = EmailMessage()
    config = current_app.config
    message["From"] = _sender(config["MAIL_FROM"], config["SITE_NAME"], site_name())
    message["To"] = to
    message["Subject"] = subject
    for name, value in headers:
        message[name] = value
    message.set_content(body)
    if headers:
        # A List-Unsubscribe link is one long word: folded at the default 78 characters it
        # would be sent as an RFC 2047 encoded word, which mail programs don't read as a link.
        # RFC 5322 allows lines of up to 998; the body is already encoded by now.
        message.policy = message.policy.clone(max_line_length=998)
    url = current_app.config.get("SMTP_URL")
    if url:
        _send_smtp(url, message, current_app.config["SMTP_TIMEOUT"])
    else:
        _write_outbox(Path(current_app.instance_path) / "outbox", message)


def _send_smtp(url: str, message: EmailMessage, timeout: float) -> None:
    parts = urlsplit(url)
    options = {k: v[-1].lower() for k, v in parse_qs(parts.query).items()}
    host = parts.hostname or "localhost"
    context = ssl.create_default_context()
    if options.get("verify") == "false":
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if parts.scheme == "smtps":
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            host, parts.port or 465, timeout=timeout, context=context
        )
    else:
        client = smtplib.SMTP(host, parts.port or 25, timeout=timeout)
    with client:
        if parts.scheme == "smtp" and options.get("starttls") in {"1", "true", "yes"}:
            client.starttls(context=context)
        if parts.username:
            client.login(unquote(parts.username), unquote(parts.password or ""))
        client.send_message(message)


def _write_outbox(folder: Path, message: EmailMessage) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    path = folder / f"{stamp}.eml"
    path.write_bytes(bytes(message))
    log.warning(
        "Mail to %s (no FORUM_SMTP_URL set; saved to %s):\n%s",
        message["To"],
        path,
        message.get_content(),
    )
