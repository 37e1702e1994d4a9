"""Shared I/O for the itest Python drivers.

Records travel between the Go tests and the drivers as JSON lines:
  {"key": b64|null, "value": b64|null, "headers": [[name, b64|null], ...],
   "timestamp": ms|null, "partition": int|null, "offset": int|null}
Produce reads records on stdin and writes one ack per record, in input order:
  {"partition": int, "offset": int} or {"error": "..."}
Consume writes the records it read, one per line, to stdout.
Diagnostics go to stderr; a non-zero exit status is a failure.
"""

import argparse
import base64
import json
import sys


def b64e(b):
    return None if b is None else base64.b64encode(b).decode("ascii")


def b64d(s):
    return None if s is None else base64.b64decode(s)


def read_records():
    out = []
    for line in sys.stdin:
        line = line.strip()
        if line:
            out.append(json.loads(line))
    return out


def write_line(obj):
    sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")


def parse_args(description):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("mode", choices=["produce", "consume"])
    p.add_argument("--bootstrap", required=True, help="host:port")
    p.add_argument("--topic", required=True)
    p.add_argument("--codec", default="none", help="none|gzip|snappy|lz4|zstd (produce)")
    p.add_argument("--ends", default="{}",
                   help='consume: JSON {"partition": end offset}; read each partition from its start to that end')
    p.add_argument("--timeout", type=float, default=60.0, help="seconds before giving up")
    return p.parse_args()


def parse_ends(s):
    return {int(k): int(v) for k, v in json.loads(s).items()}


def fail(msg):
    sys.stderr.write(msg + "\n")
    sys.exit(1)
