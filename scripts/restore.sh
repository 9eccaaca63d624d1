#!/usr/bin/env bash
# Restore a backup made by scripts/backup.sh.
#
#   scripts/restore.sh BACKUP_DIR
#
# Stop every `concierge serve` and `concierge worker` first. Reads the same
# settings as the binary:
#   DATABASE_URL        postgres://... (PostgreSQL) or empty (SQLite in the data directory)
#   CONCIERGE_DATA_DIR  the data directory (default ./data)
#
# PostgreSQL: the database named by DATABASE_URL must exist (an empty one,
# e.g. `createdb concierge`, or the old one: its tables are dropped and
# recreated); postgres.dump is restored in one transaction by pg_restore.
# The SQLite files and data.tar.gz go back into the data directory,
# replacing what is there. Then start the servers: they apply any newer
# migrations of their own version.
set -euo pipefail

log() { echo "restore.sh: $*" >&2; }

if [[ $# -ne 1 || "$1" == -* ]]; then
	echo "usage: $0 BACKUP_DIR" >&2
	exit 2
fi
SRC="$1"
DATA="${CONCIERGE_DATA_DIR:-./data}"
DB_URL="${DATABASE_URL:-}"

[[ -d "$SRC" ]] || {
	log "$SRC is not a directory"
	exit 1
}

case "$DB_URL" in
postgres://* | postgresql://*)
	[[ -f "$SRC/postgres.dump" ]] || {
		log "$SRC/postgres.dump is missing: this backup was not taken from PostgreSQL"
		exit 1
	}
	command -v pg_restore >/dev/null || {
		log "pg_restore not found: install the PostgreSQL client (apt-get install postgresql-client)"
		exit 1
	}
	log "restoring PostgreSQL from $SRC/postgres.dump"
	pg_restore --clean --if-exists --no-owner --no-privileges --single-transaction --exit-on-error \
		--dbname="$DB_URL" "$SRC/postgres.dump"
	;;
"" | sqlite://* | file:*)
	if [[ -z "$DB_URL" && ! -f "$SRC/sqlite/concierge.db" ]]; then
		log "$SRC/sqlite/concierge.db is missing: this backup was not taken from the default SQLite database"
		exit 1
	fi
	;;
*)
	log "unsupported DATABASE_URL (postgres://..., sqlite://... or empty)"
	exit 1
	;;
esac

mkdir -p "$DATA"
chmod 700 "$DATA"
if [[ -f "$SRC/data.tar.gz" ]]; then
	log "extracting $SRC/data.tar.gz into $DATA"
	# The file store is emptied, not removed: it may be a mount point (a
	# volume shared by every replica and worker, as in compose.yaml).
	if [[ -d "$DATA/files" ]]; then
		find "$DATA/files" -mindepth 1 -delete
	fi
	tar -C "$DATA" -xzf "$SRC/data.tar.gz"
fi

# SQLite files: copied back whole, with any journal of the old file removed.
put() {
	local from="$1" to="$2"
	mkdir -p "$(dirname "$to")"
	rm -f "$to" "$to-wal" "$to-shm" "$to-journal"
	cp "$from" "$to"
	chmod 600 "$to"
}
if [[ -d "$SRC/sqlite" ]]; then
	while IFS= read -r -d '' f; do
		rel="${f#"$SRC/sqlite/"}"
		log "restoring $DATA/$rel"
		put "$f" "$DATA/$rel"
	done < <(find "$SRC/sqlite" -type f -name '*.db' -print0)
fi
case "$DB_URL" in
sqlite://* | file:*)
	target="${DB_URL#sqlite://}"
	target="${target#file:}"
	target="${target%%\?*}"
	[[ -f "$SRC/sqlite-url/database.db" ]] || {
		log "$SRC/sqlite-url/database.db is missing: this backup was not taken from DATABASE_URL=sqlite://..."
		exit 1
	}
	log "restoring $target"
	put "$SRC/sqlite-url/database.db" "$target"
	;;
esac
log "done: start the servers"
