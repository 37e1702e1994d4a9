#!/usr/bin/env bash
# Builds the StreamBridge image from this checkout without pulling anything:
# a static binary compiled here, the CA certificates of this machine, and
# compose/Dockerfile (FROM scratch).
#
#   compose/build-image.sh [TAG]        default TAG: streambridge/bridge:dev
#   VERSION=v1.2.3 compose/build-image.sh streambridge/bridge:v1.2.3
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tag=${1:-streambridge/bridge:dev}
certs=${CA_CERTIFICATES:-/etc/ssl/certs/ca-certificates.crt}
if [[ ! -r $certs ]]; then
	echo "build-image.sh: no CA bundle at $certs (install ca-certificates or set CA_CERTIFICATES)" >&2
	exit 1
fi
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
ldflags="-s -w"
if [[ -n ${VERSION:-} ]]; then
	ldflags+=" -X github.com/streambridge/bridge/internal/buildinfo.Version=$VERSION"
fi
(cd "$root" && CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$ctx/bridge" ./cmd/bridge)
cp "$certs" "$ctx/ca-certificates.crt"
mkdir "$ctx/data"
docker build -q -t "$tag" -f "$root/compose/Dockerfile" "$ctx"
