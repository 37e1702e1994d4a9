#!/usr/bin/python3
"""kafka-python (2.0.x) at an old protocol level (api_version), for the
itest of Produce v0-2 / Fetch v0-3; see common.py for the record protocol.

Before 0.11 there are no headers, and before 0.10 no timestamps: records are
sent with neither. Produce acks one line per record; consume reads partition
0 from its start to --end.
"""

import argparse
import logging
import sys
import time

import kafka
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from common import b64d, b64e, fail, read_records, write_line


def produce(args, api):
    codec = None if args.codec == "none" else args.codec
    p = KafkaProducer(
        bootstrap_servers=args.bootstrap,
        api_version=api,
        compression_type=codec,
        acks="all",
        linger_ms=50,
        request_timeout_ms=int(args.timeout * 1000),
        max_block_ms=int(args.timeout * 1000),
    )
    futures = [p.send(args.topic, key=b64d(r.get("key")), value=b64d(r.get("value")), partition=0)
               for r in read_records()]
    p.flush(timeout=args.timeout)
    for f in futures:
        try:
            md = f.get(timeout=args.timeout)
            write_line({"partition": md.partition, "offset": md.offset})
        except Exception as e:  # reported per record, judged by the test
            write_line({"error": repr(e)})
    p.close(timeout=args.timeout)


def consume(args, api):
    c = KafkaConsumer(
        bootstrap_servers=args.bootstrap,
        api_version=api,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=200,
        request_timeout_ms=max(int(args.timeout * 1000), 31000),
    )
    tp = TopicPartition(args.topic, 0)
    c.assign([tp])
    c.seek_to_beginning(tp)
    deadline = time.time() + args.timeout
    while c.position(tp) < args.end:
        if time.time() > deadline:
            fail("kafka-python %s: timed out at %d of %d" % (api, c.position(tp), args.end))
        for _, msgs in c.poll(timeout_ms=500).items():
            for m in msgs:
                if m.offset < args.end:
                    write_line({"key": b64e(m.key), "value": b64e(m.value), "headers": [],
                                "timestamp": m.timestamp, "partition": m.partition, "offset": m.offset})
    c.close(autocommit=False)


def main():
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    p = argparse.ArgumentParser(description="kafka-python %s legacy driver" % kafka.__version__)
    p.add_argument("mode", choices=["produce", "consume"])
    p.add_argument("--bootstrap", required=True)
    p.add_argument("--topic", required=True)
    p.add_argument("--api-version", required=True, help="e.g. 0.8.2")
    p.add_argument("--codec", default="none")
    p.add_argument("--end", type=int, default=0, help="consume: read up to this offset")
    p.add_argument("--timeout", type=float, default=60.0)
    args = p.parse_args()
    api = tuple(int(x) for x in args.api_version.split("."))
    if args.mode == "produce":
        produce(args, api)
    else:
        consume(args, api)


if __name__ == "__main__":
    main()
