#!/usr/bin/env bash
# Back up a Concierge installation into a new directory.
#
#   scripts/backup.sh DEST_DIR
#
# Reads the same settings as the binary:
#   DATABASE_URL        postgres://... (PostgreSQL) or empty (SQLite in the data directory)
#   CONCIERGE_DATA_DIR  the data directory (default ./data)
#
# Writes into DEST_DIR (created; it must not exist or be empty):
#   postgres.dump   PostgreSQL, by pg_dump --format=custom (when DATABASE_URL is postgres://)
#   sqlite/...      every SQLite file of the data directory (concierge.db, index/index.db,
#                   index/embeddings.db), copied with sqlite3's online .backup
#   data.tar.gz     the rest of the data directory: uploaded files (files/), generated
#                   secrets (jwt_secret, encryption_key), demo credentials
#
# Safe while the servers run: pg_dump and .backup take consistent snapshots.
# Weaviate (WEAVIATE_URL) is not backed up here: see docs/deployment.md.
# Restore with scripts/restore.sh DEST_DIR.
set -euo pipefail
umask 077 # the backup holds the secrets and every company's data

log() { echo "backup.sh: $*" >&2; }

if [[ $# -ne 1 || "$1" == -* ]]; then
	echo "usage: $0 DEST_DIR" >&2
	exit 2
fi
DEST="$1"
DATA="${CONCIERGE_DATA_DIR:-./data}"
DB_URL="${DATABASE_URL:-}"

case "$DB_URL" in
postgres://* | postgresql://* | sqlite://* | file:*) ;;
"")
	[[ -f "$DATA/concierge.db" ]] || {
		log "no database at $DATA/concierge.db: set CONCIERGE_DATA_DIR (or DATABASE_URL) as the servers have it"
		exit 1
	}
	;;
*)
	log "unsupported DATABASE_URL (postgres://..., sqlite://... or empty)"
	exit 1
	;;
esac
if [[ -e "$DEST" && -n "$(ls -A "$DEST" 2>/dev/null)" ]]; then
	log "$DEST is not empty"
	exit 1
fi
mkdir -p "$DEST"

case "$DB_URL" in
postgres://* | postgresql://*)
	command -v pg_dump >/dev/null || {
		log "pg_dump not found: install the PostgreSQL client (apt-get install postgresql-client)"
		exit 1
	}
	log "dumping PostgreSQL into $DEST/postgres.dump"
	pg_dump --format=custom --no-owner --no-privileges --file="$DEST/postgres.dump" --dbname="$DB_URL"
	;;
esac

# SQLite files: the database in the default mode, the embedded index and the
# embedding cache in every mode. An explicit sqlite://path outside the data
# directory is backed up too.
sqlite_files=()
if [[ -d "$DATA" ]]; then
	while IFS= read -r -d '' f; do
		sqlite_files+=("${f#"$DATA"/}")
	done < <(find "$DATA" -type f -name '*.db' -print0)
fi
external=""
case "$DB_URL" in
sqlite://* | file:*)
	external="${DB_URL#sqlite://}"
	external="${external#file:}"
	external="${external%%\?*}"
	;;
esac
if ((${#sqlite_files[@]} > 0)) || [[ -n "$external" ]]; then
	command -v sqlite3 >/dev/null || {
		log "sqlite3 not found: install it (apt-get install sqlite3)"
		exit 1
	}
fi
for rel in "${sqlite_files[@]}"; do
	mkdir -p "$DEST/sqlite/$(dirname "$rel")"
	log "copying $DATA/$rel"
	sqlite3 "$DATA/$rel" ".timeout 10000" ".backup '$DEST/sqlite/$rel'"
done
if [[ -n "$external" ]]; then
	mkdir -p "$DEST/sqlite-url"
	log "copying $external (DATABASE_URL)"
	sqlite3 "$external" ".timeout 10000" ".backup '$DEST/sqlite-url/database.db'"
fi

# Everything else in the data directory (files, secrets), without the SQLite
# files and their journals.
if [[ -d "$DATA" ]]; then
	log "archiving the rest of $DATA into $DEST/data.tar.gz"
	tar -C "$DATA" --exclude='*.db' --exclude='*.db-wal' --exclude='*.db-shm' --exclude='*.db-journal' \
		-czf "$DEST/data.tar.gz" .
else
	log "no data directory at $DATA: nothing but the database to back up"
fi
log "done: $DEST"
