"""The account mails: email confirmation, password reset, and the notice to an address's owner
when someone signs up with it. Each is queued (forum/platform/mail.py), never sent in the request.

A reset request queues `mail_reset_link` with the typed address and the job looks the account
up: the request does the same work for every address, so neither its answer nor its timing
tells whether the address has an account. A sign-up (when addresses must be confirmed) works
the same way: `mail_signup_link` looks the address up and mails either the link that creates the
account or, when the address already has one, a notice to its owner.
"""

from __future__ import annotations

from forum.accounts import membership, tokens
from forum.db import db_session
from forum.models import User
from forum.platform import jobs, mail
from forum.platform.publicurl import external_url


def send_verification(user: User) -> None:
    link = external_url("accounts.verify_email", token=tokens.verify_token(user))
    mail.send(
        mail.Mail(
            to=user.email,
            subject=f"Confirm your email for {mail.site_name()}",
            body=f"Hi {user.username},\n\nConfirm your email address to start posting:\n\n"
            f"{link}\n\nThe link works for a week. If you didn't sign up, ignore this message.\n",
        )
    )


def queue_reset(email: str) -> None:
    mail_reset_link.enqueue(email)


# A lookup that fails (database restarting) is tried again; the mail itself has its own retries.
@jobs.task(retries=2, retry_delay=60, backoff=2, summary=lambda email: f"email={email}")
def mail_reset_link(email: str) -> None:
    user = membership.find_by_email(db_session(), email)
    if user is not None:
        send_reset(user)


def queue_signup(signup: tokens.Signup) -> None:
    mail_signup_link.enqueue(signup.username, signup.email, signup.password_hash)


def _signup_summary(_username: str, email: str, _password_hash: str) -> str:
    return f"email={email}"  # never the hash


@jobs.task(retries=2, retry_delay=60, backoff=2, summary=_signup_summary)
def mail_signup_link(username: str, email: str, password_hash: str) -> None:
    owner = membership.find_by_email(db_session(), email)
    if owner is not None:
        send_taken_address_notice(owner)
    else:
        send_signup_link(tokens.Signup(username, email, password_hash))


def send_signup_link(signup: tokens.Signup) -> None:
    link = external_url("accounts.confirm_registration", token=tokens.signup_token(signup))
    site = mail.site_name()
    mail.send(
        mail.Mail(
            to=signup.email,
            subject=f"Finish signing up to {site}",
            body=f"Hi {signup.username},\n\nClick this link to create your {site} account "
            f"and log in:\n\n{link}\n\nThe link works for 24 hours. Until you click it, "
            "no account exists. If you didn't sign up, ignore this message.\n",
        )
    )


def send_reset(user: User) -> None:
    link = _reset_link(user)
    mail.send(
        mail.Mail(
            to=user.email,
            subject=f"Reset your {mail.site_name()} password",
            body=f"Hi {user.username},\n\nSomeone (hopefully you) asked to reset your "
            f"password. Choose a new one here:\n\n{link}\n\nThe link works once, "
            "for one hour. If you didn't ask, ignore this message.\n",
        )
    )


def send_taken_address_notice(owner: User) -> None:
    link = _reset_link(owner)
    site = mail.site_name()
    mail.send(
        mail.Mail(
            to=owner.email,
            subject=f"Someone tried to sign up to {site} with your email",
            body=f"Hi {owner.username},\n\nSomeone (maybe you) tried to create a new {site} "
            "account with this email address. It already belongs to your account, so no "
            f"new account was made.\n\nYour username is {owner.username}. If you forgot "
            f"your password, choose a new one here (the link works once, for one hour):"
            f"\n\n{link}\n\nIf it wasn't you, ignore this message: nothing changed.\n",
        )
    )


def _reset_link(user: User) -> str:
    return external_url("accounts.reset_password", token=tokens.reset_token(user))
