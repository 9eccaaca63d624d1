#!/usr/bin/env bash
# Run a local, single-node Weaviate server for development, tests and CI.
#
#   scripts/weaviate.sh install   build weaviate-server into the cache (once, ~5 min)
#   scripts/weaviate.sh start     start it in the background (idempotent); prints the WEAVIATE_URL
#   scripts/weaviate.sh stop      stop it (idempotent)
#   scripts/weaviate.sh status    say whether it runs and answers; exit 0 when ready
#
#   export WEAVIATE_URL="$(scripts/weaviate.sh start)"
#
# Only the URL goes to stdout; progress and errors go to stderr.
#
# Settings (environment):
#   CONCIERGE_CACHE        cache directory (default ~/.cache/concierge); the binary is $CONCIERGE_CACHE/bin/weaviate-server
#   WEAVIATE_VERSION       server version to build (default v1.35.2)
#   WEAVIATE_PORT          HTTP port (default 18079); the other ports default to the next five:
#   WEAVIATE_GRPC_PORT     gRPC (default WEAVIATE_PORT+1)
#   WEAVIATE_GOSSIP_PORT   cluster gossip (default WEAVIATE_PORT+2)
#   WEAVIATE_DATA_PORT     cluster data (default WEAVIATE_PORT+3)
#   WEAVIATE_RAFT_PORT     Raft (default WEAVIATE_PORT+4)
#   WEAVIATE_RAFT_RPC_PORT Raft internal RPC (default WEAVIATE_PORT+5)
#   WEAVIATE_RUN_DIR       pid file and log (default $CONCIERGE_CACHE/weaviate/<port>)
#   WEAVIATE_DATA_DIR      PERSISTENCE_DATA_PATH (default $WEAVIATE_RUN_DIR/data)
#   WEAVIATE_GOMEMLIMIT    soft memory limit of the server (default 2GiB)
#   WEAVIATE_START_TIMEOUT seconds to wait for readiness (default 90)
set -euo pipefail

CACHE="${CONCIERGE_CACHE:-$HOME/.cache/concierge}"
VERSION="${WEAVIATE_VERSION:-v1.35.2}"
BIN="$CACHE/bin/weaviate-server"
HOST=127.0.0.1
PORT="${WEAVIATE_PORT:-18079}"
GRPC_PORT_="${WEAVIATE_GRPC_PORT:-$((PORT + 1))}"
GOSSIP_PORT="${WEAVIATE_GOSSIP_PORT:-$((PORT + 2))}"
DATA_PORT="${WEAVIATE_DATA_PORT:-$((PORT + 3))}"
RAFT_PORT_="${WEAVIATE_RAFT_PORT:-$((PORT + 4))}"
RAFT_RPC_PORT="${WEAVIATE_RAFT_RPC_PORT:-$((PORT + 5))}"
RUN_DIR="${WEAVIATE_RUN_DIR:-$CACHE/weaviate/$PORT}"
DATA_DIR="${WEAVIATE_DATA_DIR:-$RUN_DIR/data}"
PID_FILE="$RUN_DIR/weaviate.pid"
LOG_FILE="$RUN_DIR/weaviate.log"
URL="http://$HOST:$PORT"
START_TIMEOUT="${WEAVIATE_START_TIMEOUT:-90}"

log() { echo "weaviate.sh: $*" >&2; }

ready() {
	curl -fsS -o /dev/null --max-time 2 "$URL/v1/.well-known/ready" 2>/dev/null
}

running_pid() {
	local pid
	[[ -f "$PID_FILE" ]] || return 1
	pid="$(cat "$PID_FILE" 2>/dev/null || true)"
	[[ "$pid" =~ ^[0-9]+$ ]] || return 1
	kill -0 "$pid" 2>/dev/null || return 1
	# Make sure the pid was not recycled by another program.
	[[ "$(readlink -f "/proc/$pid/exe" 2>/dev/null || true)" == "$(readlink -f "$BIN")" ]] || return 1
	echo "$pid"
}

cmd_install() {
	if [[ -x "$BIN" ]]; then
		log "$BIN already installed"
		return 0
	fi
	log "building weaviate-server $VERSION into $CACHE/bin (takes about 5 minutes)"
	mkdir -p "$CACHE/bin"
	GOBIN="$CACHE/bin" go install "github.com/weaviate/weaviate/cmd/weaviate-server@$VERSION"
	log "installed $BIN"
}

cmd_start() {
	local pid
	if pid="$(running_pid)"; then
		if ready; then
			log "already running (pid $pid)"
			echo "$URL"
			return 0
		fi
	else
		if [[ ! -x "$BIN" ]]; then
			log "$BIN is missing: run scripts/weaviate.sh install"
			return 1
		fi
		if ready; then
			log "something else already answers on $URL; set WEAVIATE_PORT to use another port"
			return 1
		fi
		mkdir -p "$RUN_DIR" "$DATA_DIR"
		log "starting weaviate-server on $URL (gRPC $HOST:$GRPC_PORT_, data $DATA_DIR, log $LOG_FILE)"
		(
			cd "$RUN_DIR"
			export AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true
			export AUTHENTICATION_APIKEY_ENABLED=false
			export AUTHENTICATION_OIDC_ENABLED=false
			export AUTHORIZATION_RBAC_ENABLED=false
			export DEFAULT_VECTORIZER_MODULE=none
			export ENABLE_MODULES=''
			export DISABLE_TELEMETRY=true
			export GO_PROFILING_DISABLE=true
			export PROMETHEUS_MONITORING_ENABLED=false
			export QUERY_DEFAULTS_LIMIT=25
			export PERSISTENCE_DATA_PATH="$DATA_DIR"
			export GRPC_PORT="$GRPC_PORT_"
			export CLUSTER_HOSTNAME=node1
			export CLUSTER_IN_LOCALHOST=true
			export CLUSTER_BIND_ADDR="$HOST"
			export CLUSTER_ADVERTISE_ADDR="$HOST"
			export CLUSTER_GOSSIP_BIND_PORT="$GOSSIP_PORT"
			export CLUSTER_DATA_BIND_PORT="$DATA_PORT"
			export RAFT_PORT="$RAFT_PORT_"
			export RAFT_INTERNAL_RPC_PORT="$RAFT_RPC_PORT"
			export RAFT_JOIN="node1:$RAFT_RPC_PORT"
			export RAFT_BOOTSTRAP_EXPECT=1
			# A 2-core machine shared with the tests: a soft heap limit instead
			# of LIMIT_RESOURCES (which would also take a core away).
			export GOMEMLIMIT="${WEAVIATE_GOMEMLIMIT:-2GiB}"
			# Flush written data to disk segments after 5s instead of 60s:
			# BM25 over a large in-memory memtable is ~100x slower.
			export PERSISTENCE_MEMTABLES_FLUSH_DIRTY_AFTER_SECONDS="${WEAVIATE_FLUSH_DIRTY_AFTER:-5}"
			export LOG_LEVEL="${WEAVIATE_LOG_LEVEL:-warning}"
			nohup setsid "$BIN" --host "$HOST" --port "$PORT" --scheme http \
				</dev/null >>"$LOG_FILE" 2>&1 &
			echo $! >"$PID_FILE"
		)
		pid="$(cat "$PID_FILE")"
	fi

	local deadline=$((SECONDS + START_TIMEOUT))
	until ready; do
		if ! kill -0 "$pid" 2>/dev/null; then
			log "weaviate-server exited; last lines of $LOG_FILE:"
			tail -n 30 "$LOG_FILE" >&2 || true
			rm -f "$PID_FILE"
			return 1
		fi
		if ((SECONDS >= deadline)); then
			log "not ready after ${START_TIMEOUT}s; last lines of $LOG_FILE:"
			tail -n 30 "$LOG_FILE" >&2 || true
			return 1
		fi
		sleep 0.5
	done
	log "ready (pid $pid); export WEAVIATE_URL=$URL"
	echo "$URL"
}

cmd_stop() {
	local pid
	if ! pid="$(running_pid)"; then
		rm -f "$PID_FILE"
		log "not running"
		return 0
	fi
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.2
	done
	if kill -0 "$pid" 2>/dev/null; then
		log "pid $pid did not stop in 20s; killing it"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -f "$PID_FILE"
	log "stopped (pid $pid)"
}

cmd_status() {
	local pid
	if pid="$(running_pid)"; then
		if ready; then
			log "running (pid $pid), ready at $URL"
			echo "$URL"
			return 0
		fi
		log "running (pid $pid) but not ready at $URL"
		return 1
	fi
	log "not running (pid file $PID_FILE)"
	return 3
}

case "${1:-}" in
install) cmd_install ;;
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
*)
	echo "usage: $0 install|start|stop|status" >&2
	exit 2
	;;
esac
