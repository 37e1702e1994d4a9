#!/usr/bin/python3
"""kafka-python group consumer for itest/kafka_groups_test.go.

Joins --group, subscribes to --topic and prints, one JSON line each, every
record it reads ({"value", "partition", "offset"}) and every assignment
change ({"event": "assign"|"revoke", "partitions": [...]}). Offsets are
committed synchronously after each batch is printed (at-least-once). On
SIGTERM it commits, leaves the group and exits 0; SIGKILL is a crash.
"""

import argparse
import json
import logging
import signal
import sys

from kafka import KafkaConsumer
from kafka.consumer.subscription_state import ConsumerRebalanceListener

stop = False


def emit(obj):
    sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")
    sys.stdout.flush()


class Listener(ConsumerRebalanceListener):
    def on_partitions_revoked(self, revoked):
        emit({"event": "revoke", "partitions": sorted(tp.partition for tp in revoked)})

    def on_partitions_assigned(self, assigned):
        emit({"event": "assign", "partitions": sorted(tp.partition for tp in assigned)})


def main():
    global stop
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    p = argparse.ArgumentParser()
    p.add_argument("--bootstrap", required=True)
    p.add_argument("--topic", required=True)
    p.add_argument("--group", required=True)
    p.add_argument("--client-id", default="itest-kafka-python")
    args = p.parse_args()

    def on_term(*_):
        global stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)
    c = KafkaConsumer(
        bootstrap_servers=args.bootstrap,
        client_id=args.client_id,
        group_id=args.group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=6000,
        heartbeat_interval_ms=1000,
        fetch_max_wait_ms=200,
        request_timeout_ms=30000,
    )
    c.subscribe([args.topic], listener=Listener())
    while not stop:
        batch = c.poll(timeout_ms=300)
        for tp, msgs in batch.items():
            for m in msgs:
                emit({"value": m.value.decode(), "partition": m.partition, "offset": m.offset})
        if batch:
            c.commit()
    c.commit()
    c.close(autocommit=False)


if __name__ == "__main__":
    main()
