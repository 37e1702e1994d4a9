#!/usr/bin/env bash
# kinesis-references.sh starts and stops the Kinesis emulators that
# `bridge bench kinesis --compare-endpoint` measures the bridge against:
# kinesalite 3.3 (in memory; HTTP/1.1, JSON and CBOR) and kinesis-local
# (kinesis-mock built for Node; plain HTTP/1.1 and HTTP/2 on one port, TLS on
# another). Both run under node from bench/references (installed with npm ci
# from its package-lock.json) and listen on 127.0.0.1 only.
#
#   scripts/kinesis-references.sh start    # install if needed, start, print URLs
#   scripts/kinesis-references.sh status   # say what runs where
#   scripts/kinesis-references.sh stop     # stop what start started
#
# Then, from the repository root:
#   go run ./cmd/bridge bench kinesis --embedded \
#     --compare-endpoint kinesalite=http://127.0.0.1:4567 \
#     --compare-endpoint kinesis-local=http://127.0.0.1:4568
#
# Environment:
#   KINESALITE_PORT         kinesalite's port (default 4567)
#   KINESIS_LOCAL_PORT      kinesis-local's plain HTTP port (default 4568)
#   KINESIS_LOCAL_TLS_PORT  kinesis-local's HTTPS port, unused by the bench (default 4569)
#   KINESIS_REFERENCES_DIR  where pid files and logs go
#                           (default ${TMPDIR:-/tmp}/streambridge-kinesis-references)
#   START_TIMEOUT           seconds to wait for each port to open (default 60)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
refs="$root/bench/references"
run_dir="${KINESIS_REFERENCES_DIR:-${TMPDIR:-/tmp}/streambridge-kinesis-references}"
kinesalite_port="${KINESALITE_PORT:-4567}"
kinesis_local_port="${KINESIS_LOCAL_PORT:-4568}"
kinesis_local_tls_port="${KINESIS_LOCAL_TLS_PORT:-4569}"
start_timeout="${START_TIMEOUT:-60}"

usage() {
	echo "usage: $0 start|stop|status" >&2
	exit 2
}

# running NAME: succeeds when NAME's pid file names a live process.
running() {
	local pidfile="$run_dir/$1.pid"
	[[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

# port_open PORT: succeeds when something accepts on 127.0.0.1:PORT.
port_open() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

install() {
	command -v node >/dev/null || { echo "$0: node is not installed (apt-get install nodejs npm)" >&2; exit 1; }
	command -v npm >/dev/null || { echo "$0: npm is not installed (apt-get install npm)" >&2; exit 1; }
	# npm ci when node_modules is missing or older than the lock file.
	if [[ ! -d $refs/node_modules || $refs/package-lock.json -nt $refs/node_modules ]]; then
		echo "$0: npm ci in bench/references" >&2
		(cd "$refs" && npm ci --no-audit --no-fund --loglevel=error >&2)
		touch "$refs/node_modules"
	fi
}

# launch NAME PORT ENV... -- ARGS...: starts node with ARGS (under the
# loopback preload) in the background with the ENV assignments, records its
# pid and waits for PORT to open.
launch() {
	local name=$1 port=$2
	shift 2
	local env=()
	while [[ $1 != -- ]]; do
		env+=("$1")
		shift
	done
	shift
	if running "$name"; then
		echo "$0: $name already runs (pid $(cat "$run_dir/$name.pid"))" >&2
		return
	fi
	if port_open "$port"; then
		echo "$0: 127.0.0.1:$port is taken: set another port for $name" >&2
		exit 1
	fi
	(cd "$refs" && exec env ${env[@]+"${env[@]}"} node -r ./loopback.js "$@" >"$run_dir/$name.log" 2>&1 </dev/null) &
	echo $! >"$run_dir/$name.pid"
	local waited=0
	until port_open "$port"; do
		if ! running "$name"; then
			echo "$0: $name exited; its log ($run_dir/$name.log):" >&2
			cat "$run_dir/$name.log" >&2
			rm -f "$run_dir/$name.pid"
			exit 1
		fi
		if ((waited >= start_timeout * 10)); then
			echo "$0: $name did not open 127.0.0.1:$port within ${start_timeout}s; see $run_dir/$name.log" >&2
			stop_one "$name"
			exit 1
		fi
		sleep 0.1
		waited=$((waited + 1))
	done
}

stop_one() {
	local name=$1 pidfile="$run_dir/$1.pid"
	[[ -f $pidfile ]] || return 0
	local pid
	pid="$(cat "$pidfile")"
	if kill -0 "$pid" 2>/dev/null; then
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$pid" 2>/dev/null || true
		echo "stopped $name (pid $pid)"
	fi
	rm -f "$pidfile"
}

status() {
	local name port
	for name in kinesalite kinesis-local; do
		port="$kinesalite_port"
		[[ $name == kinesis-local ]] && port="$kinesis_local_port"
		if running "$name"; then
			echo "$name=http://127.0.0.1:$port (pid $(cat "$run_dir/$name.pid"), log $run_dir/$name.log)"
		else
			echo "$name: not running"
		fi
	done
}

[[ $# == 1 ]] || usage
case $1 in
start)
	mkdir -p "$run_dir"
	install
	launch kinesalite "$kinesalite_port" -- kinesalite.js --port "$kinesalite_port"
	# kinesis-local reads its TLS certificate from the working directory
	# unless told where; LOG_LEVEL=WARN keeps it from logging every request.
	launch kinesis-local "$kinesis_local_port" \
		KINESIS_MOCK_PLAIN_PORT="$kinesis_local_port" \
		KINESIS_MOCK_TLS_PORT="$kinesis_local_tls_port" \
		KINESIS_MOCK_CERT_PATH="$refs/node_modules/kinesis-local/server.json" \
		LOG_LEVEL=WARN -- node_modules/kinesis-local/main.js
	echo "kinesalite=http://127.0.0.1:$kinesalite_port"
	echo "kinesis-local=http://127.0.0.1:$kinesis_local_port"
	echo "compare with: go run ./cmd/bridge bench kinesis --embedded --compare-endpoint kinesalite=http://127.0.0.1:$kinesalite_port --compare-endpoint kinesis-local=http://127.0.0.1:$kinesis_local_port" >&2
	echo "stop with: $0 stop" >&2
	;;
stop)
	stop_one kinesalite
	stop_one kinesis-local
	;;
status)
	status
	;;
*)
	usage
	;;
esac
