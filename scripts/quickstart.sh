#!/usr/bin/env bash
# One command from a fresh clone to a working backup on the embedded default (SQLite catalog and blob store in
# the local backup path): installs, builds, generates a sample AppServer redolog (a week of mail for 5 accounts),
# lets the Realtime Scanner catch up with it, then reads an item's history and exports an account as it was a
# day ago.
set -euo pipefail
cd "$(dirname "$0")/.."

run() { echo "+ $*" >&2; "$@"; }

[ -d node_modules ] || run npm ci
run npm run build --silent
carbonio() { run ./bin/run.js "$@"; }

home=${CARBONIO_BACKUP_HOME:-${XDG_DATA_HOME:-$HOME/.local/share}/carbonio-backup}
base=$(dirname "$home")
sample="$base/carbonio-backup-sample"
server=${CARBONIO_BACKUP_SERVER:-$(hostname)}

if [ ! -d "$sample/redolog" ]; then
  run node dist/tools/generate-redolog-cli.js --out "$sample" --accounts 5 --transactions 20000 --days-ago 7 >/dev/null
fi

carbonio config set server "$server" backupRedologPath "$(cd "$sample/redolog" && pwd)"
carbonio backup daemon once true
carbonio backup getBackupInfo
json() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(eval("(j)=>"+process.argv[1])(JSON.parse(s))))' "$1"; }
account=$(./bin/run.js backup getAvailableAccounts --json | json 'j.accounts.find(a=>!a.deleted).account')
item=$(./bin/run.js backup doItemSearch "$account" type message --json | json 'j.matches[0].id')
carbonio backup getItem "$account" "$item" date all
carbonio backup doExport "$base/carbonio-backup-export" accounts "$account" date "$(date -d '1 day ago' '+%d/%m/%Y %H:%M:%S')" force true
echo "Exported $account as it was a day ago to $(cd "$base/carbonio-backup-export" && pwd)/$account" >&2
