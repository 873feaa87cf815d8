"""Sending email: SMTP when FORUM_SMTP_URL is set; otherwise (development) each message is
printed to the console and written to instance/outbox/ so a newcomer can click its link.

FORUM_SMTP_URL forms: smtp://user:pass@host:587?starttls=true, smtps://user:pass@host:465,
smtp://localhost:1025 (no auth, no TLS).
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from flask import current_app

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


def send(mail: Mail) -> None:
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message.set_content(mail.body)
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
        client: smtplib.SMTP = smtplib.SMTP_SSL(host, parts.port or 465, timeout=timeout,
                                                context=context)
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
    log.warning("Mail to %s (no FORUM_SMTP_URL set; saved to %s):\n%s", message["To"], path,
                message.get_content())
