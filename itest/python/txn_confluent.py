#!/usr/bin/python3
"""confluent-kafka (librdkafka) transactional consume-transform-produce loop
for itest/kafka_txn_test.go.

Reads --in as a member of --group with isolation.level=read_committed, and
for each batch it gets, in one transaction of --txn-id: writes "out-" +
value (same key) to --out and commits the group's offsets
(send_offsets_to_transaction). Prints {"committed": N} per committed
transaction. A transaction that must abort is aborted and the consumer
rewound to the group's committed offsets. On SIGTERM it finishes the
transaction under way and exits 0; SIGKILL is a crash mid-loop.
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


def rewind(c):
    parts = c.assignment()
    if not parts:
        return
    for tp in c.committed(parts, timeout=30):
        if tp.offset >= 0:
            c.seek(tp)
        else:
            c.seek(ck.TopicPartition(tp.topic, tp.partition, ck.OFFSET_BEGINNING))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bootstrap", required=True)
    p.add_argument("--in", dest="inp", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--group", required=True)
    p.add_argument("--txn-id", required=True)
    p.add_argument("--client-id", default="itest-confluent-txn")
    args = p.parse_args()

    def on_term(*_):
        global stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)
    c = ck.Consumer({
        "bootstrap.servers": args.bootstrap,
        "client.id": args.client_id,
        "group.id": args.group,
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "isolation.level": "read_committed",
        "session.timeout.ms": 6000,
        "heartbeat.interval.ms": 1000,
        "fetch.wait.max.ms": 200,
    })
    pr = ck.Producer({
        "bootstrap.servers": args.bootstrap,
        "client.id": args.client_id,
        "transactional.id": args.txn_id,
        "transaction.timeout.ms": 10000,
        "linger.ms": 5,
    })
    pr.init_transactions(60)
    c.subscribe([args.inp])
    while not stop:
        msgs = [m for m in c.consume(num_messages=50, timeout=0.3) if not m.error()]
        if not msgs:
            continue
        try:
            pr.begin_transaction()
            for m in msgs:
                pr.produce(args.out, key=m.key(), value=b"out-" + m.value())
            pr.send_offsets_to_transaction(c.position(c.assignment()), c.consumer_group_metadata(), 60)
            pr.commit_transaction(60)
            emit({"committed": len(msgs)})
        except ck.KafkaException as e:
            err = e.args[0]
            sys.stderr.write("transaction: %s\n" % err)
            if err.fatal():
                sys.exit(2)
            if err.txn_requires_abort():
                pr.abort_transaction(60)
            rewind(c)
    c.close()


if __name__ == "__main__":
    main()
