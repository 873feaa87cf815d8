"""The deploy configs in ops/ and the guide that shows them (docs/deploy.md). The cluster check
(`make cluster-check`, root only) runs them for real; these catch drift and template mistakes
in the ordinary suite."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from ops import render
from ops.cluster import guide, units

ROOT = Path(__file__).resolve().parent.parent
SHOWN_IN_GUIDE = [
    "ops/showboard.env.example",
    "ops/flask.sh",
    "ops/backup.sh",
    "ops/nginx/showboard.conf",
    "ops/systemd/showboard-web.socket",
    "ops/systemd/showboard-web.service",
    "ops/systemd/showboard-worker.service",
    "ops/systemd/showboard-backup.service",
    "ops/systemd/showboard-backup.timer",
]
NGINX_VALUES = {
    "SERVER_NAME": "fans.example.org",
    "TLS_CERT": "/tls/cert.pem",
    "TLS_KEY": "/tls/key.pem",
    "STATIC_ROOT": "/srv/showboard/static",
    "ACCESS_LOG": "/var/log/nginx/showboard.access.log",
    "APP_HOSTS": "10.0.0.11,10.0.0.12",
}


@pytest.mark.parametrize("path", SHOWN_IN_GUIDE)
def test_guide_shows_each_config_file_verbatim(path: str) -> None:
    assert (ROOT / path).read_text() in guide.GUIDE.read_text()


def test_guide_has_every_step_the_cluster_check_runs() -> None:
    assert set(guide.steps()) == {
        "first-install",
        "tls-cert",
        "nginx-site",
        "upgrade",
        "restore-drill",
    }


def test_nginx_site_renders_one_server_line_per_app_host() -> None:
    site = render.render((ROOT / "ops/nginx/showboard.conf").read_text(), NGINX_VALUES)
    assert "@" not in site.replace("no-reply@", "")
    assert "server 10.0.0.11:8000 max_fails=1" in site
    assert "server 10.0.0.12:8000 max_fails=1" in site
    assert "alias /srv/showboard/static/;" in site
    assert "gzip on;" in site and "text/css" in site and "application/javascript" in site
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in site


def test_render_refuses_a_missing_or_unknown_value() -> None:
    template = "listen @PORT@;\n"
    with pytest.raises(SystemExit, match="no value for PORT"):
        render.render(template, {})
    with pytest.raises(SystemExit, match="has no PROT"):
        render.render(template, {"PORT": "80", "PROT": "81"})


def test_web_unit_runs_gunicorn_with_the_environment_file(tmp_path: Path) -> None:
    env_file = tmp_path / "showboard.env"
    env_file.write_text(
        'FORUM_ENV=production\nWEB_WORKERS=2\nWEB_THREADS="4"\n'
        'FORUM_MAIL_FROM="Showboard <no-reply@x.test>"\n'
    )
    web = units.service(
        "showboard-web.service",
        {"/srv/showboard": "/app", "/etc/showboard/showboard.env": str(env_file)},
    )
    assert web.argv[0] == "/app/.venv/bin/gunicorn"
    assert web.argv[web.argv.index("--workers") + 1] == "2"
    assert web.argv[web.argv.index("--threads") + 1] == "4"
    assert "--access-logfile" in web.argv and web.argv[-1] == "app:app"
    assert web.env["FORUM_MAIL_FROM"] == "Showboard <no-reply@x.test>"
    assert web.cwd == Path("/app")
    assert web.kill_signal == signal.SIGTERM
    assert units.listen_stream("showboard-web.socket") == ("0.0.0.0", 8000)


def test_worker_unit_stops_huey_gracefully(tmp_path: Path) -> None:
    env_file = tmp_path / "showboard.env"
    env_file.write_text("FORUM_ENV=production\n")
    worker = units.service(
        "showboard-worker.service",
        {"/srv/showboard": "/app", "/etc/showboard/showboard.env": str(env_file)},
    )
    assert worker.argv == ["/app/.venv/bin/flask", "--app", "app", "worker"]
    assert worker.kill_signal == signal.SIGINT  # Huey's graceful stop


def test_env_example_names_only_known_settings() -> None:
    from forum.platform.config import DEFAULTS

    example = units.read_environment_file(ROOT / "ops/showboard.env.example")
    forum_keys = {key.removeprefix("FORUM_") for key in example if key.startswith("FORUM_")}
    assert forum_keys <= DEFAULTS.keys()
    assert {
        "SECRET_KEY",
        "PUBLIC_URL",
        "TRUSTED_PROXIES",
        "DATABASE_URL",
        "REDIS_URL",
    } <= forum_keys
