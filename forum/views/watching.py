"""Watching and muting: threads, boards, members; /watching lists what a member follows."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("watching", __name__)
