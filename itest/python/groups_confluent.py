#!/usr/bin/python3
"""confluent-kafka (librdkafka) group consumer for itest/kafka_groups_test.go.

Joins --group with --strategy (range, roundrobin or cooperative-sticky),
subscribes to --topic and prints, one JSON line each, every record it reads
({"value", "partition", "offset"}) and every assignment change ({"event":
"assign"|"revoke", "partitions": [...]}: with cooperative-sticky these are
the incremental changes). Offsets are committed synchronously after each
batch is printed (at-least-once). On SIGTERM it commits, leaves the group
and exits 0; SIGKILL is a crash.
"""

import argparse
import json
import signal
import sys

import confluent_kafka as ck

stop = False


def emit(obj):
    sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bootstrap", required=True)
    p.add_argument("--topic", required=True)
    p.add_argument("--group", required=True)
    p.add_argument("--strategy", default="range")
    p.add_argument("--client-id", default="itest-confluent")
    args = p.parse_args()

    def on_term(*_):
        global stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)
    c = ck.Consumer({
        "bootstrap.servers": args.bootstrap,
        "client.id": args.client_id,
        "group.id": args.group,
        "partition.assignment.strategy": args.strategy,
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "session.timeout.ms": 6000,
        "heartbeat.interval.ms": 1000,
        "fetch.wait.max.ms": 200,
        "topic.metadata.refresh.interval.ms": 2000,
    })

    def on_assign(consumer, parts):
        emit({"event": "assign", "partitions": sorted(tp.partition for tp in parts)})

    def on_revoke(consumer, parts):
        emit({"event": "revoke", "partitions": sorted(tp.partition for tp in parts)})

    c.subscribe([args.topic], on_assign=on_assign, on_revoke=on_revoke)
    while not stop:
        msgs = c.consume(num_messages=200, timeout=0.3)
        got = False
        for m in msgs:
            if m.error():
                sys.stderr.write("consume error: %s\n" % m.error())
                continue
            got = True
            emit({"value": m.value().decode(), "partition": m.partition(), "offset": m.offset()})
        if got:
            try:
                c.commit(asynchronous=False)
            except ck.KafkaException as e:
                # A rebalance took the partitions: the next owner reads
                # from the last commit (at-least-once).
                sys.stderr.write("commit: %s\n" % e)
    try:
        c.commit(asynchronous=False)
    except ck.KafkaException as e:
        sys.stderr.write("final commit: %s\n" % e)
    c.close()


if __name__ == "__main__":
    main()
