"""Live threads: /t/<id>/live (is there news?, cheaply) and the new posts as HTML."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("live", __name__)
