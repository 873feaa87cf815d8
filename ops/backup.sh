#!/bin/sh
# A dated backup into DIR, keeping DAYS days of them (showboard-backup.service runs it daily):
#   ops/backup.sh /var/backups/showboard 14
set -eu
dir=$1
days=${2:-14}
mkdir -p "$dir"
"$(dirname "$0")/flask.sh" backup "$dir/showboard-$(date -u +%Y%m%dT%H%M%SZ).backup"
find "$dir" -name 'showboard-*.backup' -mtime "+$days" -delete
