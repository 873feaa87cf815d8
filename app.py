"""Entry point for `flask run` and gunicorn (`gunicorn app:app`)."""

from forum import create_app

app = create_app()
