#!/usr/bin/env bash
# One command from a fresh clone to a working backup module on the embedded default (SQLite catalog and blob
# store in the local backup path): installs, builds, shows the configuration and runs the module's main job.
set -euo pipefail
cd "$(dirname "$0")/.."

run() { echo "+ $*" >&2; "$@"; }

[ -d node_modules ] || run npm ci
run npm run build --silent
carbonio() { run ./bin/run.js "$@"; }

server=${CARBONIO_BACKUP_SERVER:-$(hostname)}
carbonio config dump server "$server"
uuid=$(carbonio backup doPurge | head -n 1)
carbonio backup monitor "$uuid"
echo "backup home: ${CARBONIO_BACKUP_HOME:-the default described in README.md}" >&2
