#!/usr/bin/env bash
# sqs-references.sh starts and stops the SQS emulators the bridge is
# measured against, on 127.0.0.1 only, both in memory:
#
#   local-aws-sqs 2.0.2 (node; JSON 1.0 and Query): what
#     `bridge bench sqs --compare-endpoint` loads. It runs from
#     itest/node/node_modules (the SQS client tests drive it too; npm ci
#     there from its package-lock.json when missing) under
#     bench/references/local-aws-sqs.js.
#   goaws 0.4.5 (Go; Query only): built from bench/references/goaws, a
#     module of its own pinning it (go build; the Go module proxy is needed
#     once). aws-sdk-go-v2 speaks JSON 1.0 to SQS, so `bridge bench sqs`
#     cannot load goaws; boto3 and the AWS CLI can.
#
#   scripts/sqs-references.sh start    # install/build if needed, start, print URLs
#   scripts/sqs-references.sh status   # say what runs where
#   scripts/sqs-references.sh stop     # stop what start started
#
# Then, from the repository root:
#   go run ./cmd/bridge bench sqs --embedded \
#     --compare-endpoint local-aws-sqs=http://127.0.0.1:9324
#
# Environment:
#   LOCAL_AWS_SQS_PORT   local-aws-sqs's port (default 9324)
#   GOAWS_PORT           goaws's port (default 4100)
#   SQS_REFERENCES       which to start: "local-aws-sqs goaws" (default), or one
#   SQS_REFERENCES_DIR   where pid files, logs and the goaws binary go
#                        (default ${TMPDIR:-/tmp}/streambridge-sqs-references)
#   START_TIMEOUT        seconds to wait for each port to open (default 60)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
refs="$root/bench/references"
node_dir="$root/itest/node"
run_dir="${SQS_REFERENCES_DIR:-${TMPDIR:-/tmp}/streambridge-sqs-references}"
local_aws_sqs_port="${LOCAL_AWS_SQS_PORT:-9324}"
goaws_port="${GOAWS_PORT:-4100}"
which="${SQS_REFERENCES:-local-aws-sqs goaws}"
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

port_of() {
	case $1 in
	local-aws-sqs) echo "$local_aws_sqs_port" ;;
	goaws) echo "$goaws_port" ;;
	esac
}

install_local_aws_sqs() {
	command -v node >/dev/null || { echo "$0: node is not installed (apt-get install nodejs npm)" >&2; exit 1; }
	if [[ ! -d $node_dir/node_modules/local-aws-sqs ]]; then
		command -v npm >/dev/null || { echo "$0: npm is not installed (apt-get install npm)" >&2; exit 1; }
		echo "$0: npm ci in itest/node" >&2
		(cd "$node_dir" && npm ci --no-audit --no-fund --loglevel=error >&2)
	fi
}

# install_goaws builds the goaws binary into the run dir when it is missing
# or older than its sources.
install_goaws() {
	local bin="$run_dir/goaws"
	if [[ -x $bin && $bin -nt $refs/goaws/main.go && $bin -nt $refs/goaws/go.sum ]]; then
		return
	fi
	local go=go
	command -v go >/dev/null || go=/usr/local/go/bin/go
	command -v "$go" >/dev/null || { echo "$0: no Go toolchain on PATH or in /usr/local/go/bin" >&2; exit 1; }
	echo "$0: go build in bench/references/goaws" >&2
	"$go" build -C "$refs/goaws" -o "$bin" . >&2
}

# launch NAME PORT DIR -- COMMAND...: starts COMMAND in DIR in the
# background, records its pid and waits for PORT to open.
launch() {
	local name=$1 port=$2 dir=$3
	shift 4
	if running "$name"; then
		echo "$0: $name already runs (pid $(cat "$run_dir/$name.pid"))" >&2
		return
	fi
	if port_open "$port"; then
		echo "$0: 127.0.0.1:$port is taken: set another port for $name" >&2
		exit 1
	fi
	(cd "$dir" && exec "$@" >"$run_dir/$name.log" 2>&1 </dev/null) &
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
	local name
	for name in local-aws-sqs goaws; do
		if running "$name"; then
			echo "$name=http://127.0.0.1:$(port_of "$name") (pid $(cat "$run_dir/$name.pid"), log $run_dir/$name.log)"
		else
			echo "$name: not running"
		fi
	done
}

[[ $# == 1 ]] || usage
for name in $which; do
	[[ $name == local-aws-sqs || $name == goaws ]] || { echo "$0: SQS_REFERENCES: unknown emulator $name" >&2; exit 2; }
done
case $1 in
start)
	mkdir -p "$run_dir"
	for name in $which; do
		case $name in
		local-aws-sqs)
			install_local_aws_sqs
			# NODE_PATH finds the package in itest/node; the emulator
			# binds 127.0.0.1 itself.
			launch local-aws-sqs "$local_aws_sqs_port" "$refs" -- \
				env NODE_PATH="$node_dir/node_modules" node local-aws-sqs.js --port "$local_aws_sqs_port"
			;;
		goaws)
			install_goaws
			launch goaws "$goaws_port" "$run_dir" -- "$run_dir/goaws" -port "$goaws_port"
			;;
		esac
	done
	for name in $which; do
		echo "$name=http://127.0.0.1:$(port_of "$name")"
	done
	if [[ " $which " == *" local-aws-sqs "* ]]; then
		echo "compare with: go run ./cmd/bridge bench sqs --embedded --compare-endpoint local-aws-sqs=http://127.0.0.1:$local_aws_sqs_port" >&2
	fi
	if [[ " $which " == *" goaws "* ]]; then
		echo "goaws speaks the Query protocol only: boto3 and the AWS CLI can load it, bridge bench sqs (aws-sdk-go-v2, JSON 1.0) cannot" >&2
	fi
	echo "stop with: $0 stop" >&2
	;;
stop)
	stop_one local-aws-sqs
	stop_one goaws
	;;
status)
	status
	;;
*)
	usage
	;;
esac
