"""Register, log in and out, and account settings."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, fresh_login_required, login_user, logout_user
from werkzeug.wrappers import Response

from forum import accounts
from forum.db import db_session
from forum.forms import EmailChangeForm, EmptyForm, LoginForm, PasswordChangeForm, RegisterForm
from forum.passwords import verify_password
from forum.security import safe_next
from forum.views.drafts import DRAFT_FIELDS, resubmit_page

bp = Blueprint("accounts", __name__)


@bp.route("/register", methods=["GET", "POST"])
def register() -> str | Response:
    if current_user.is_authenticated:
        return redirect(url_for("boards.index"))
    form = RegisterForm()
    if form.validate_on_submit():
        session = db_session()
        try:
            user = accounts.create_user(
                session, form.username.data, form.email.data, form.password.data
            )
        except accounts.AccountConflict as conflict:
            getattr(form, conflict.field).errors.append(conflict.message)
        else:
            session.commit()
            login_user(user)
            flash(f"Welcome to Showboard, {user.username}!", "success")
            return redirect(url_for("boards.index"))
    return render_template("accounts/register.html", form=form)


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int]:
    form = LoginForm()
    draft = {name: request.form[name] for name in DRAFT_FIELDS if request.form.get(name)}
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        session = db_session()
        user = accounts.authenticate(session, form.username.data, form.password.data)
        if user is not None:
            session.commit()
            login_user(user, remember=form.remember.data)
            target = safe_next(form.next.data)
            if draft:
                return resubmit_page(target, draft, "You're logged in. Your post is below: "
                                     "send it when you're ready.")
            return redirect(target)
        # One message for unknown users and wrong passwords: don't confirm who has an account.
        form.password.errors.append("That username and password don't match.")
    return render_template("accounts/login.html", form=form, draft=draft)


@bp.post("/logout")
def logout() -> Response:
    if EmptyForm().validate_on_submit():
        logout_user()
        flash("You're logged out.", "info")
    return redirect(url_for("boards.index"))


@bp.get("/settings")
@fresh_login_required
def settings() -> str:
    return render_template(
        "accounts/settings.html",
        password_form=PasswordChangeForm(prefix="pw"),
        email_form=EmailChangeForm(prefix="em", formdata=None, email=current_user.email),
    )


@bp.post("/settings/password")
@fresh_login_required
def change_password() -> str | Response:
    form = PasswordChangeForm(prefix="pw")
    if form.validate_on_submit():
        if verify_password(current_user.password_hash, form.current_password.data):
            accounts.change_password(current_user, form.new_password.data)
            db_session().commit()
            login_user(current_user)  # this session stays, under the new version
            flash("Password changed. Other devices have been logged out.", "success")
            return redirect(url_for("accounts.settings"))
        form.current_password.errors.append("That isn't your current password.")
    return render_template(
        "accounts/settings.html",
        password_form=form,
        email_form=EmailChangeForm(prefix="em", formdata=None, email=current_user.email),
    )


@bp.post("/settings/email")
@fresh_login_required
def change_email() -> str | Response:
    form = EmailChangeForm(prefix="em")
    if form.validate_on_submit():
        if verify_password(current_user.password_hash, form.current_password.data):
            session = db_session()
            try:
                accounts.change_email(session, current_user, form.email.data)
            except accounts.AccountConflict as conflict:
                form.email.errors.append(conflict.message)
            else:
                session.commit()
                flash("Email address updated.", "success")
                return redirect(url_for("accounts.settings"))
        else:
            form.current_password.errors.append("That isn't your current password.")
    return render_template(
        "accounts/settings.html", password_form=PasswordChangeForm(prefix="pw"), email_form=form
    )
