#!/bin/sh
# The flask command line with the app host's production environment (docs/deploy.md):
#   sudo -u showboard /srv/showboard/ops/flask.sh init-db
set -eu
cd "$(dirname "$0")/.."
set -a
. "${SHOWBOARD_ENV_FILE:-/etc/showboard/showboard.env}"
set +a
exec .venv/bin/flask --app app "$@"
