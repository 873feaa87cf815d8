"""Register, log in and out, password reset, email verification, settings, account deletion."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, fresh_login_required, login_required, logout_user
from sqlalchemy.exc import IntegrityError, OperationalError
from werkzeug.wrappers import Response

from forum.access import permissions
from forum.access.viewer import current_viewer
from forum.accounts import account_mail, auth, membership, tokens
from forum.accounts.forms import (
    DeleteAccountForm,
    EmailChangeForm,
    LoginForm,
    PasswordChangeForm,
    RegisterForm,
    ResetPasswordForm,
    ResetRequestForm,
)
from forum.accounts.passwords import hash_password, verify_password
from forum.db import db_session, reads_first
from forum.models import User
from forum.platform import freshness
from forum.platform.formfields import EmptyForm, add_error
from forum.platform.security import safe_next
from forum.platform.settings import SiteSettings, get_settings
from forum.views import signin
from forum.views.drafts import DRAFT_FIELDS, resubmit_page

bp = Blueprint("accounts", __name__)


def _verification_required() -> bool:
    return bool(current_app.config["REQUIRE_EMAIL_VERIFICATION"])


def _welcome(username: str) -> None:
    flash(f"Welcome to {get_settings(db_session()).site_name}, {username}!", "success")


@bp.route("/register", methods=["GET", "POST"])
def register() -> str | Response | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(url_for("boards.index"))
    session = db_session()
    with reads_first(session):
        site = get_settings(session)
    if not site.registration_open:
        return render_template("accounts/registration_closed.html"), 403
    form = RegisterForm()
    if form.validate_on_submit():
        if form.website.data:
            # Only bots see the honeypot; tell them nothing useful.
            add_error(form.username, "We couldn't create that account. Please try again.")
            return render_template("accounts/register.html", form=form, site=site)
        if _verification_required():
            return _register_by_mail(form, site)
        # Addresses needn't be confirmed (development): the account is made and usable at once.
        try:
            # Hashed before the first write, so SQLite's write lock isn't held through Argon2id.
            user = membership.create_user(
                session,
                form.username.data,
                form.email.data,
                password_hash=hash_password(form.password.data),
            )
        except membership.AccountConflict as conflict:
            if conflict.field != "email":
                # Usernames are public on every profile: saying one is taken reveals nothing.
                getattr(form, conflict.field).errors.append(conflict.message)
                return render_template("accounts/register.html", form=form, site=site)
            # The address has an account: answer as for a new one (no oracle of who is a
            # member) and tell its owner instead.
            session.rollback()
            owner = membership.find_by_email(session, form.email.data)
            if owner is not None:
                account_mail.send_taken_address_notice(owner)
            _welcome(form.username.data)
            return redirect(url_for("boards.index"))
        auth.start_session(session, user, remember=False)
        session.commit()
        _welcome(user.username)
        return redirect(url_for("boards.index"))
    return render_template("accounts/register.html", form=form, site=site)


SIGNUP_SENT = "Check your email: click the link we sent to finish signing up."


def _register_by_mail(form: RegisterForm, site: SiteSettings) -> str | Response:
    """Sign-up when addresses must be confirmed: no account yet, only a mail. The address is
    looked up by the job (forum/accounts/account_mail.py), which mails either the link that creates
    the
    account or a notice to the address's owner: the answer, the cookies and the request's work
    are the same whether or not the address has an account, and no one is logged in."""
    session = db_session()
    with reads_first(session):
        try:
            # Usernames are public on every profile: saying one is taken reveals nothing.
            membership.ensure_available(session, form.username.data, None)
        except membership.AccountConflict as conflict:
            add_error(form.username, conflict.message)
            return render_template("accounts/register.html", form=form, site=site)
    account_mail.queue_signup(
        tokens.Signup(form.username.data, form.email.data, hash_password(form.password.data))
    )
    flash(SIGNUP_SENT, "info")
    return redirect(url_for("boards.index"))


@bp.get("/register/confirm/<token>")
def confirm_registration(token: str) -> str | Response | tuple[str, int]:
    signup = tokens.read_signup_token(token)
    if signup is None:
        return render_template("accounts/signup_confirm.html", problem="invalid"), 400
    session = db_session()
    owner = membership.find_by_email(session, signup.email)
    if owner is not None and owner is membership.find_by_username(session, signup.username):
        # This link already made the account: clicking it twice makes nothing new.
        flash("Your account is already confirmed: log in with your username and password.", "info")
        return redirect(url_for("accounts.login"))
    try:
        user = membership.create_user(
            session,
            signup.username,
            signup.email,
            password_hash=signup.password_hash,
            verified=True,
        )
        if current_user.is_authenticated:
            auth.end_session(session, current_user)
        auth.start_session(session, user, remember=False)
        session.commit()
    except (membership.AccountConflict, IntegrityError) as error:
        # Taken since the sign-up (or in a race with another click): nothing was made.
        session.rollback()
        field = error.field if isinstance(error, membership.AccountConflict) else "username"
        return render_template(
            "accounts/signup_confirm.html", problem="taken", field=field, username=signup.username
        ), 409
    except OperationalError:
        # A GET's SQLite transaction starts deferred: another writer between its reads and its
        # first write makes SQLite refuse. Nothing was made, so the link works a moment later.
        session.rollback()
        logout_user()
        return render_template("accounts/signup_confirm.html", problem="busy"), 503
    site_name = get_settings(db_session()).site_name
    flash(f"Welcome to {site_name}, {user.username}! Your account is ready.", "success")
    return redirect(url_for("boards.index"))


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int]:
    form = LoginForm()
    draft = {name: request.form[name] for name in DRAFT_FIELDS if request.form.get(name)}
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        session = db_session()
        with reads_first(session):
            user = membership.authenticate(session, form.username.data, form.password.data)
            upgraded_hash = membership.upgraded_hash(user, form.password.data) if user else None
        if user is not None:
            if upgraded_hash:
                user.password_hash = upgraded_hash
            held = signin.begin_second_factor(user, form.remember.data, form.next.data, draft)
            if held is not None:
                freshness.private(session)
                session.commit()  # the upgraded hash, if any; no session row yet
                return held
            auth.start_session(session, user, remember=form.remember.data)
            freshness.private(session)  # a login changes no public page
            session.commit()
            target = safe_next(form.next.data)
            if draft:
                return resubmit_page(
                    target,
                    draft,
                    "You're logged in. Your post is below: send it when you're ready.",
                )
            return redirect(target)
        # One message for unknown users and wrong passwords: don't confirm who has an account.
        add_error(form.password, "That username and password don't match.")
    return render_template("accounts/login.html", form=form, draft=draft)


@bp.post("/logout")
def logout() -> Response:
    if EmptyForm().validate_on_submit() and current_user.is_authenticated:
        session = db_session()
        auth.end_session(session, current_user)
        freshness.private(session)
        session.commit()
        flash("You're logged out.", "info")
    return redirect(url_for("boards.index"))


# ---------------------------------------------------------------------- password reset


@bp.route("/reset", methods=["GET", "POST"])
def reset_request() -> str | Response:
    form = ResetRequestForm()
    if form.validate_on_submit():
        # The account is looked up by the job, not here: the request does the same work and
        # gives the same answer whether or not the address has an account, and whether or
        # not SMTP is up.
        account_mail.queue_reset(form.email.data)
        flash("If that address belongs to an account, a reset link is on its way.", "info")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/reset_request.html", form=form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> str | Response | tuple[str, int]:
    session = db_session()
    user = tokens.read_reset_token(token, lambda uid: session.get(User, uid))
    if user is None:
        return render_template("accounts/link_invalid.html", kind="password reset"), 400
    form = ResetPasswordForm()
    if form.validate_on_submit():
        membership.change_password(session, user, form.new_password.data)
        membership.mark_verified(session, user)  # the link arrived by email, so the address works
        auth.start_session(session, user, remember=False)
        session.commit()
        flash(
            "Your password is changed and you're logged in. Other sessions were ended.", "success"
        )
        return redirect(url_for("boards.index"))
    return render_template("accounts/reset_password.html", form=form, token=token)


# ---------------------------------------------------------------------- email verification


@bp.get("/verify/<token>")
def verify_email(token: str) -> str | Response | tuple[str, int]:
    session = db_session()
    user = tokens.read_verify_token(token, lambda uid: session.get(User, uid))
    if user is None:
        return render_template("accounts/link_invalid.html", kind="confirmation"), 400
    membership.mark_verified(session, user)
    session.commit()
    flash("Thanks, your email is confirmed. Happy posting!", "success")
    return redirect(url_for("boards.index"))


@bp.post("/verify/resend")
@login_required
def resend_verification() -> Response:
    if not EmptyForm().validate_on_submit():
        abort(400)
    if current_user.email_verified_at is None:
        account_mail.send_verification(current_user)
        flash("We sent a new confirmation link to your email.", "info")
    return redirect(safe_next(request.form.get("next"), url_for("boards.index")))


# ---------------------------------------------------------------------- settings


def _settings_page(**forms: object) -> str:
    defaults = {
        "password_form": PasswordChangeForm(prefix="pw"),
        "email_form": EmailChangeForm(prefix="em", formdata=None, email=current_user.email),
        "delete_form": DeleteAccountForm(prefix="del"),
    }
    return render_template(
        "accounts/settings.html",
        **{**defaults, **forms},
        needs_verification=permissions.needs_verification(current_viewer()),
    )


@bp.get("/settings")
@fresh_login_required
def settings() -> str:
    return _settings_page()


@bp.post("/settings/password")
@fresh_login_required
def change_password() -> str | Response:
    form = PasswordChangeForm(prefix="pw")
    if form.validate_on_submit():
        if verify_password(current_user.password_hash, form.current_password.data):
            session = db_session()
            membership.change_password(session, current_user, form.new_password.data)
            session.commit()
            flash("Password changed. Your other devices have been logged out.", "success")
            return redirect(url_for("accounts.settings"))
        add_error(form.current_password, "That isn't your current password.")
    return _settings_page(password_form=form)


@bp.post("/settings/email")
@fresh_login_required
def change_email() -> str | Response:
    form = EmailChangeForm(prefix="em")
    if form.validate_on_submit():
        if verify_password(current_user.password_hash, form.current_password.data):
            session = db_session()
            verify = _verification_required()
            try:
                membership.change_email(session, current_user, form.email.data, verified=not verify)
            except membership.AccountConflict as conflict:
                add_error(form.email, conflict.message)
            else:
                # Whoever else is logged in may be who the address is being moved away from.
                auth.end_other_sessions(session, current_user)
                session.commit()
                if verify:
                    account_mail.send_verification(current_user)
                    flash(
                        "Email updated. Click the link we sent to confirm it. Your other "
                        "devices have been logged out.",
                        "info",
                    )
                else:
                    flash(
                        "Email address updated. Your other devices have been logged out.", "success"
                    )
                return redirect(url_for("accounts.settings"))
        else:
            add_error(form.current_password, "That isn't your current password.")
    return _settings_page(email_form=form)


@bp.post("/settings/delete")
@fresh_login_required
def delete_account() -> str | Response:
    form = DeleteAccountForm(prefix="del")
    if form.validate_on_submit():
        if verify_password(current_user.password_hash, form.password.data):
            session = db_session()
            user = current_user._get_current_object()
            auth.end_session(session, user)
            membership.delete_account(session, user)
            session.commit()
            flash("Your account is deleted. Your posts stay, shown as by “deleted user”.", "info")
            return redirect(url_for("boards.index"))
        add_error(form.password, "That isn't your password.")
    return _settings_page(delete_form=form)
