"""Entry point for `flask run`, every `flask` command and gunicorn (`gunicorn app:app`).

A setting that cannot work stops the process here with one line naming it and exit code 2
(forum/platform/startup.py); gunicorn checks the same in its master first (gunicorn.conf.py)."""

from forum.platform.startup import load_app

app = load_app()
