"""Email choices per notification kind and one-click unsubscribe links."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("mail_choices", __name__)
