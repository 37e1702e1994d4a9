#!/usr/bin/env bash
# Measures the image: its size, and start-to-healthy over N runs (median):
#   wall    docker run until docker reports healthy (what a test waits for)
#   run     docker run -d alone (creating and starting the container)
#   ready   container start until the bridge logs "ready" (the process)
#   probe   container start until the first passing healthcheck ends
# Containers run on the host network on loopback ports, with a 100ms
# healthcheck interval (Docker 20.10 probes first one interval after start).
#
#   compose/measure-startup.sh [IMAGE] [N]
set -euo pipefail
image=${1:-streambridge/bridge:dev}
n=${2:-7}
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ms() { python3 -c 'import sys,datetime as d; a=d.datetime.fromisoformat(sys.argv[1][:26]).replace(tzinfo=d.timezone.utc); b=d.datetime.fromisoformat(sys.argv[2][:26]).replace(tzinfo=d.timezone.utc); print(round((b-a).total_seconds()*1000))' "$1" "$2"; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
size=$(docker image inspect -f '{{.Size}}' "$image")
echo "image $image: $((size / 1000000)) MB ($size bytes)"
walls=() runs=() readys=() probes=()
for i in $(seq 1 "$n"); do
	name=sb-measure-$$-$i
	t0=$(date +%s%N)
	docker run -d --name "$name" --read-only --network host --health-interval 100ms \
		-e BRIDGE_KAFKA_ADDR=127.0.0.1:$(port) -e BRIDGE_AWS_ADDR=127.0.0.1:$(port) \
		-e BRIDGE_ADMIN_ADDR=127.0.0.1:$(port) -e BRIDGE_LOG_FORMAT=json "$image" >/dev/null
	tr=$(date +%s%N)
	until [[ $(docker inspect -f '{{.State.Health.Status}}' "$name") == healthy ]]; do sleep 0.01; done
	t1=$(date +%s%N)
	started=$(docker inspect -f '{{.State.StartedAt}}' "$name")
	probe_end=$(docker inspect -f '{{range .State.Health.Log}}{{if eq .ExitCode 0}}{{.End.UTC.Format "2006-01-02T15:04:05.000000Z"}}{{"\n"}}{{end}}{{end}}' "$name" | head -1)
	ready=$(docker logs "$name" 2>&1 | python3 -c 'import sys,json; print(next(json.loads(l)["time"] for l in sys.stdin if l.startswith("{") and json.loads(l).get("msg")=="ready"))')
	docker rm -f -v "$name" >/dev/null
	walls+=($(((t1 - t0) / 1000000)))
	runs+=($(((tr - t0) / 1000000)))
	readys+=($(ms "${started%Z}" "${ready%Z}"))
	probes+=($(ms "${started%Z}" "${probe_end%Z}"))
done
echo "wall  (docker run -> healthy) ms: ${walls[*]}  median $(printf '%s\n' "${walls[@]}" | median)"
echo "run   (docker run -d alone)   ms: ${runs[*]}  median $(printf '%s\n' "${runs[@]}" | median)"
echo "ready (start -> ready log)    ms: ${readys[*]}  median $(printf '%s\n' "${readys[@]}" | median)"
echo "probe (start -> first pass)   ms: ${probes[*]}  median $(printf '%s\n' "${probes[@]}" | median)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
