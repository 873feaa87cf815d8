"""Signing in beyond the password, and the member's own security pages.

- /settings/security: passkeys (add, remove), the authenticator app (TOTP), recovery codes.
- /settings/sessions: every signed-in device, with "sign out" for one or all the others.
- /login/second-factor: after a correct password, a member with a second factor proves it here
  (app code, recovery code, or passkey). The pending login waits in the signed session for at
  most PENDING_LIFETIME; no session row exists until the second factor passes.
- /login/passkey: signing in with a passkey alone (usernameless; needs JavaScript).

When the admins require it (site settings), moderators and admins without a second factor are
sent to set one up before any moderator or admin page; they can still read as members.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, fresh_login_required
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from forum.accounts import auth, passkeys, twofactor
from forum.accounts.forms import PasswordConfirmForm, SecondFactorForm, TotpConfirmForm
from forum.accounts.passwords import verify_password
from forum.accounts.useragent import summarise
from forum.db import db_session
from forum.models import Role, User
from forum.platform import freshness
from forum.platform.formfields import EmptyForm, add_error
from forum.platform.security import safe_next
from forum.platform.settings import get_settings
from forum.views.drafts import resubmit_page

bp = Blueprint("signin", __name__)

PENDING_KEY = "pending_login"
PENDING_LIFETIME = 300  # seconds
# Drafts ride along in the cookie only while it stays well under browsers' 4 KB limit.
PENDING_DRAFT_MAX = 1500
WEBAUTHN_KEY = "webauthn_key"
GUARDED_AREAS = frozenset({"mod", "admin"})


def _commit(db: Session) -> None:
    freshness.private(db)  # sign-in rows show on no public page
    db.commit()


def _fail_attempt() -> None:
    """Count this response against the second-factor rate limits (forum/platform/limits.py)."""
    g.second_factor_failed = True


# ------------------------------------------------------------------------------ pending login


def begin_second_factor(
    user: User, remember: bool, next_url: str, draft: dict[str, str]
) -> Response | None:
    """After a correct password: when the member has a second factor, hold the login and send
    them to prove it (a redirect); None when they have none and may sign in now."""
    if not twofactor.has_second_factor(db_session(), user):
        return None
    kept = draft if sum(len(v) for v in draft.values()) <= PENDING_DRAFT_MAX else {}
    session[PENDING_KEY] = {
        "uid": user.id,
        "remember": bool(remember),
        "next": next_url,
        "draft": kept,
        "at": int(time.time()),
        "pw": _password_mark(user),
    }
    return redirect(url_for("signin.second_factor"))


def _password_mark(user: User) -> str:
    # A password change or reset in the meantime voids a login still waiting here.
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def _pending_user() -> tuple[User, dict[str, Any]] | None:
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict) or time.time() - pending.get("at", 0) > PENDING_LIFETIME:
        session.pop(PENDING_KEY, None)
        return None
    user = db_session().get(User, pending.get("uid"))
    if user is None or pending.get("pw") != _password_mark(user):
        session.pop(PENDING_KEY, None)
        return None
    return user, pending


def _finish_login(
    user: User, remember: bool, next_url: str, draft: dict[str, str] | None = None
) -> Response | tuple[str, int]:
    db = db_session()
    auth.start_session(db, user, remember=remember)  # clears the pending login
    _commit(db)
    target = safe_next(next_url)
    if draft:
        return resubmit_page(
            target, draft, "You're logged in. Your post is below: send it when you're ready."
        )
    return redirect(target)


def _session_key() -> str:
    key = session.get(WEBAUTHN_KEY)
    if not isinstance(key, str):
        key = session[WEBAUTHN_KEY] = secrets.token_urlsafe(24)
    return key


def _json_error(message: str, status: int = 400) -> tuple[Response, int]:
    return jsonify(error=message), status


@bp.route("/login/second-factor", methods=["GET", "POST"])
def second_factor() -> str | Response | tuple[str, int]:
    found = _pending_user()
    if found is None:
        flash("Your sign-in took too long. Please log in again.", "info")
        return redirect(url_for("accounts.login"))
    user, pending = found
    db = db_session()
    form = SecondFactorForm()
    if form.validate_on_submit():
        code = form.code.data
        if twofactor.verify_totp(db, user, code):
            return _finish_login(user, pending["remember"], pending["next"], pending["draft"])
        if twofactor.use_recovery_code(db, user, code):
            left = twofactor.recovery_codes_left(db, user)
            response = _finish_login(user, pending["remember"], pending["next"], pending["draft"])
            twofactor.note_recovery_code_used(user, left, request.remote_addr or "")
            flash(
                f"You signed in with a recovery code; {left} left. Set up your lost "
                "device again or make new codes here.",
                "info",
            )
            return redirect(url_for("signin.security")) if not pending["draft"] else response
        db.rollback()
        _fail_attempt()
        add_error(form.code, "That code isn't right, or it was already used.")
    has_totp = (row := twofactor.totp_row(db, user)) is not None and row.enabled_at is not None
    return render_template(
        "signin/second_factor.html",
        form=form,
        has_totp=has_totp,
        has_passkeys=bool(passkeys.user_passkeys(db, user)),
        passkeys_on=passkeys.relying_party() is not None,
    )


@bp.post("/login/second-factor/passkey/options")
def second_factor_passkey_options() -> Response | tuple[Response, int]:
    found = _pending_user()
    if found is None:
        return _json_error("Your sign-in took too long. Please log in again.")
    db = db_session()
    try:
        options = passkeys.authentication_options(db, _session_key(), found[0])
    except passkeys.PasskeyError as error:
        return _json_error(str(error))
    _commit(db)
    return Response(options, mimetype="application/json")


@bp.post("/login/second-factor/passkey")
def second_factor_passkey() -> Response | tuple[Response, int]:
    found = _pending_user()
    if found is None:
        return _json_error("Your sign-in took too long. Please log in again.")
    user, pending = found
    db = db_session()
    try:
        passkeys.finish_authentication(db, _session_key(), passkeys.parse_json(request.data), user)
    except passkeys.PasskeyError as error:
        _commit(db)  # the challenge stays spent
        _fail_attempt()
        return _json_error(str(error))
    _finish_login(user, pending["remember"], pending["next"])
    return jsonify(redirect=safe_next(pending["next"]))


# ------------------------------------------------------------------------------ passkey sign-in


@bp.post("/login/passkey/options")
def passkey_login_options() -> Response | tuple[Response, int]:
    db = db_session()
    try:
        options = passkeys.authentication_options(db, _session_key())
    except passkeys.PasskeyError as error:
        return _json_error(str(error))
    _commit(db)
    return Response(options, mimetype="application/json")


@bp.post("/login/passkey")
def passkey_login() -> Response | tuple[Response, int]:
    db = db_session()
    try:
        user = passkeys.finish_authentication(db, _session_key(), passkeys.parse_json(request.data))
    except passkeys.PasskeyError as error:
        _commit(db)
        _fail_attempt()
        return _json_error(str(error))
    next_url = request.args.get("next", "")
    _finish_login(user, request.args.get("remember") == "1", next_url)
    return jsonify(redirect=safe_next(next_url))


# ------------------------------------------------------------------------------ security page


def _security_page(**extra: Any) -> str:
    db = db_session()
    user = current_user._get_current_object()
    row = twofactor.totp_row(db, user)
    return render_template(
        "signin/security.html",
        passkey_list=passkeys.user_passkeys(db, user),
        totp_enabled=row is not None and row.enabled_at is not None,
        codes_left=twofactor.recovery_codes_left(db, user),
        passkeys_on=passkeys.relying_party() is not None,
        password_form=extra.pop("password_form", None) or PasswordConfirmForm(prefix="pw"),
        empty_form=EmptyForm(),
        **extra,
    )


@bp.get("/settings/security")
@fresh_login_required
def security() -> str:
    return _security_page()


@bp.post("/settings/security/totp/start")
@fresh_login_required
def totp_start() -> Response:
    if not EmptyForm().validate_on_submit():
        abort(400)
    db = db_session()
    twofactor.start_totp(db, current_user)
    _commit(db)
    return redirect(url_for("signin.totp_setup"))


def _totp_setup_page(form: TotpConfirmForm) -> str | Response:
    db = db_session()
    row = twofactor.totp_row(db, current_user)
    if row is None or row.enabled_at is not None:
        return redirect(url_for("signin.security"))
    uri = twofactor.provisioning_uri(row, current_user, get_settings(db).site_name)
    return render_template(
        "signin/totp_setup.html", form=form, secret=row.secret, qr_svg=twofactor.qr_svg(uri)
    )


@bp.get("/settings/security/totp")
@fresh_login_required
def totp_setup() -> str | Response:
    return _totp_setup_page(TotpConfirmForm())


@bp.post("/settings/security/totp")
@fresh_login_required
def totp_enable() -> str | Response:
    form = TotpConfirmForm()
    if form.validate_on_submit():
        db = db_session()
        user = current_user._get_current_object()
        if twofactor.enable_totp(db, user, form.code.data):
            codes = (
                twofactor.new_recovery_codes(db, user)
                if not twofactor.recovery_codes_left(db, user)
                else []
            )
            _commit(db)
            flash("Your authenticator app is set up.", "success")
            return (
                _security_page(new_codes=codes) if codes else redirect(url_for("signin.security"))
            )
        _fail_attempt()
        add_error(
            form.code, "That code isn't right. Check the app's clock and try the newest code."
        )
    return _totp_setup_page(form)


def _password_confirmed() -> PasswordConfirmForm | None:
    """None when the password was right; else the form with its error, to show again."""
    form = PasswordConfirmForm(prefix="pw")
    if form.validate_on_submit():
        if verify_password(current_user.password_hash, form.password.data):
            return None
        add_error(form.password, "That isn't your password.")
    return form


@bp.post("/settings/security/totp/disable")
@fresh_login_required
def totp_disable() -> str | Response:
    if (form := _password_confirmed()) is not None:
        return _security_page(password_form=form)
    db = db_session()
    twofactor.disable_totp(db, current_user)
    if not passkeys.user_passkeys(db, current_user):
        twofactor.remove_recovery_codes(db, current_user)
    _commit(db)
    flash("The authenticator app is no longer asked for.", "info")
    return redirect(url_for("signin.security"))


@bp.post("/settings/security/recovery-codes")
@fresh_login_required
def recovery_codes() -> str | Response:
    if (form := _password_confirmed()) is not None:
        return _security_page(password_form=form)
    db = db_session()
    user = current_user._get_current_object()
    if not twofactor.has_second_factor(db, user):
        flash("Set up a passkey or an authenticator app first.", "info")
        return redirect(url_for("signin.security"))
    codes = twofactor.new_recovery_codes(db, user)
    _commit(db)
    return _security_page(new_codes=codes)


@bp.post("/settings/security/passkeys/options")
@fresh_login_required
def passkey_register_options() -> Response | tuple[Response, int]:
    db = db_session()
    try:
        options = passkeys.registration_options(db, current_user, _session_key())
    except passkeys.PasskeyError as error:
        return _json_error(str(error))
    _commit(db)
    return Response(options, mimetype="application/json")


@bp.post("/settings/security/passkeys")
@fresh_login_required
def passkey_register() -> Response | tuple[Response, int]:
    db = db_session()
    try:
        passkeys.finish_registration(
            db,
            current_user,
            _session_key(),
            passkeys.parse_json(request.data),
            request.args.get("name", ""),
        )
    except passkeys.PasskeyError as error:
        _commit(db)  # the challenge stays spent
        return _json_error(str(error))
    _commit(db)
    flash("Passkey added.", "success")
    return jsonify(redirect=url_for("signin.security"))


@bp.post("/settings/security/passkeys/remove")
@fresh_login_required
def passkey_remove() -> Response:
    if not EmptyForm().validate_on_submit():
        abort(400)
    db = db_session()
    passkey_id = request.form.get("passkey", "")
    # Someone else's passkey is no different from one already gone (a second click).
    if not passkey_id.isdigit() or not passkeys.remove(db, current_user, int(passkey_id)):
        flash("That passkey was already removed.", "info")
        return redirect(url_for("signin.security"))
    _commit(db)
    flash("Passkey removed.", "info")
    return redirect(url_for("signin.security"))


# ------------------------------------------------------------------------------ sessions page


@bp.get("/settings/sessions")
@fresh_login_required
def sessions() -> str:
    # This device first, then the rest as list_sessions orders them (most recent first).
    rows = sorted(auth.list_sessions(db_session(), current_user), key=lambda s: not s.is_current)
    return render_template(
        "signin/sessions.html",
        form=EmptyForm(),
        devices=[(row, summarise(row.user_agent)) for row in rows],
    )


@bp.post("/settings/sessions/end")
@fresh_login_required
def end_session() -> Response:
    if not EmptyForm().validate_on_submit():
        abort(400)
    session_id = request.form.get("session", "")
    db = db_session()
    user = current_user._get_current_object()
    if any(s.id == session_id and s.is_current for s in auth.list_sessions(db, user)):
        auth.end_session(db, user)
        _commit(db)
        flash("You're logged out.", "info")
        return redirect(url_for("boards.index"))
    if not auth.end_session_by_id(db, user, session_id):
        flash("That session had already ended.", "info")
        return redirect(url_for("signin.sessions"))
    _commit(db)
    flash("That device is signed out.", "success")
    return redirect(url_for("signin.sessions"))


@bp.post("/settings/sessions/end-others")
@fresh_login_required
def end_others() -> Response:
    if not EmptyForm().validate_on_submit():
        abort(400)
    db = db_session()
    auth.end_other_sessions(db, current_user)
    _commit(db)
    flash("Every other device is signed out.", "success")
    return redirect(url_for("signin.sessions"))


# ------------------------------------------------------------------------------ the requirement


@bp.before_app_request
def second_factor_required() -> Response | None:
    if request.blueprint not in GUARDED_AREAS or not current_user.is_authenticated:
        return None
    if current_user.role == Role.MEMBER:
        return None  # the area's own guard answers 403
    db = db_session()
    if not get_settings(db).require_second_factor or twofactor.has_second_factor(db, current_user):
        return None
    flash(
        "This site asks moderators and admins to use a second factor. Add a passkey or an "
        "authenticator app, then the moderator tools open again.",
        "info",
    )
    return redirect(url_for("signin.security"))
