#!/usr/bin/python3
"""kafka-python (2.0.x) driver for the itest Kafka tests; see common.py for the protocol.

Run with /usr/bin/python3: the Debian package python3-kafka (plus python3-snappy,
python3-lz4 and python3-zstandard for the codecs) lives there.
"""

import logging
import sys
import time

import kafka
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from common import b64d, b64e, fail, parse_args, parse_ends, read_records, write_line


def produce(args):
    codec = None if args.codec == "none" else args.codec
    p = KafkaProducer(
        bootstrap_servers=args.bootstrap,
        compression_type=codec,
        acks="all",
        linger_ms=20,
        retries=5,
        request_timeout_ms=int(args.timeout * 1000),
        max_block_ms=int(args.timeout * 1000),
    )
    futures = []
    for r in read_records():
        headers = [(h[0], b64d(h[1])) for h in r.get("headers") or []]
        futures.append(p.send(
            args.topic,
            key=b64d(r.get("key")),
            value=b64d(r.get("value")),
            headers=headers,
            partition=r.get("partition"),
            timestamp_ms=r.get("timestamp"),
        ))
    p.flush(timeout=args.timeout)
    for f in futures:
        try:
            md = f.get(timeout=args.timeout)
            write_line({"partition": md.partition, "offset": md.offset})
        except Exception as e:  # reported per record, judged by the test
            write_line({"error": repr(e)})
    p.close(timeout=args.timeout)


def consume(args):
    ends = parse_ends(args.ends)
    c = KafkaConsumer(
        bootstrap_servers=args.bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=200,
        request_timeout_ms=max(int(args.timeout * 1000), 31000),
    )
    tps = [TopicPartition(args.topic, p) for p in sorted(ends)]
    c.assign(tps)
    c.seek_to_beginning(*tps)
    deadline = time.time() + args.timeout
    todo = {tp for tp in tps if ends[tp.partition] > 0}
    while todo:
        if time.time() > deadline:
            fail("kafka-python: timed out; positions %s, ends %s" % (
                {tp.partition: c.position(tp) for tp in tps}, ends))
        for tp, msgs in c.poll(timeout_ms=500).items():
            for m in msgs:
                if m.offset >= ends[tp.partition]:
                    continue
                write_line({
                    "key": b64e(m.key), "value": b64e(m.value),
                    "headers": [[h[0], b64e(h[1])] for h in (m.headers or [])],
                    "timestamp": m.timestamp, "partition": m.partition, "offset": m.offset,
                })
        for tp in list(todo):
            if c.position(tp) >= ends[tp.partition]:
                todo.discard(tp)
    c.close(autocommit=False)


def main():
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    args = parse_args("kafka-python %s driver" % kafka.__version__)
    if args.mode == "produce":
        produce(args)
    else:
        consume(args)


if __name__ == "__main__":
    main()
