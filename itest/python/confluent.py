#!/usr/bin/python3
"""confluent-kafka (Python, librdkafka) driver for the itest Kafka tests; see common.py.

Run with /usr/bin/python3: the Debian package python3-confluent-kafka lives there.
Consuming uses assign() with explicit offsets: no consumer group is joined (the
group.id librdkafka insists on is never used for membership or commits).
"""

import sys
import time

import confluent_kafka as ck

from common import b64d, b64e, fail, parse_args, parse_ends, read_records, write_line


def produce(args):
    p = ck.Producer({
        "bootstrap.servers": args.bootstrap,
        "compression.type": args.codec,
        "acks": "all",
        "linger.ms": 20,
        "message.timeout.ms": int(args.timeout * 1000),
    })
    recs = read_records()
    acks = [None] * len(recs)

    def on_delivery(i):
        def cb(err, msg):
            if err is not None:
                acks[i] = {"error": str(err)}
            else:
                acks[i] = {"partition": msg.partition(), "offset": msg.offset()}
        return cb

    for i, r in enumerate(recs):
        kw = {}
        if r.get("partition") is not None:
            kw["partition"] = r["partition"]
        if r.get("timestamp") is not None:
            kw["timestamp"] = r["timestamp"]
        headers = [(h[0], b64d(h[1])) for h in r.get("headers") or []]
        if headers:
            kw["headers"] = headers
        while True:
            try:
                p.produce(args.topic, value=b64d(r.get("value")), key=b64d(r.get("key")),
                          on_delivery=on_delivery(i), **kw)
                break
            except BufferError:
                p.poll(0.1)
        p.poll(0)
    left = p.flush(args.timeout)
    if left:
        fail("confluent-kafka: %d messages not delivered after %ss" % (left, args.timeout))
    for a in acks:
        write_line(a if a is not None else {"error": "no delivery report"})


def consume(args):
    ends = parse_ends(args.ends)
    errors = []
    c = ck.Consumer({
        "bootstrap.servers": args.bootstrap,
        "group.id": "itest-unused",  # required by the client; never joined
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "fetch.wait.max.ms": 200,
        "error_cb": lambda e: errors.append(str(e)),
    })
    c.assign([ck.TopicPartition(args.topic, p, ck.OFFSET_BEGINNING) for p in sorted(ends)])
    todo = {p for p, end in ends.items() if end > 0}
    deadline = time.time() + args.timeout
    while todo:
        if time.time() > deadline:
            fail("confluent-kafka: timed out with partitions %s unread; client errors: %s" % (sorted(todo), errors))
        m = c.poll(0.5)
        if m is None:
            continue
        if m.error() is not None:
            if m.error().code() == ck.KafkaError._PARTITION_EOF:
                continue
            fail("confluent-kafka: %s" % m.error())
        if m.offset() >= ends[m.partition()]:
            continue
        ts_type, ts = m.timestamp()
        write_line({
            "key": b64e(m.key()), "value": b64e(m.value()),
            "headers": [[h[0], b64e(h[1])] for h in (m.headers() or [])],
            "timestamp": ts if ts_type != ck.TIMESTAMP_NOT_AVAILABLE else None,
            "partition": m.partition(), "offset": m.offset(),
        })
        if m.offset() + 1 >= ends[m.partition()]:
            todo.discard(m.partition())
    c.close()


def main():
    args = parse_args("confluent-kafka %s (librdkafka %s) driver" % (ck.version()[0], ck.libversion()[0]))
    if args.mode == "produce":
        produce(args)
    else:
        consume(args)


if __name__ == "__main__":
    main()
