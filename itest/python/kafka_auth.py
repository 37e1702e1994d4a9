#!/usr/bin/python3
"""Authenticated round trip for the itest Kafka security tests.

  kafka_auth.py kafka-python|confluent --bootstrap H:P --topic T --protocol SASL_SSL
      [--mechanism SCRAM-SHA-256 --user U --password P] [--cafile F] [--certfile F --keyfile F]

Produces one record with a fresh value, then reads the topic's partition 0 from
the start until that value comes back. Writes {"ok": true} and exits 0, or
writes {"error": "..."} and exits 3 when the client reports a failure
(authentication included). Run with /usr/bin/python3 (Debian's python3-kafka
and python3-confluent-kafka).
"""

import argparse
import sys
import time
import uuid

from common import write_line


def parse():
    p = argparse.ArgumentParser()
    p.add_argument("client", choices=["kafka-python", "confluent"])
    p.add_argument("--bootstrap", required=True)
    p.add_argument("--topic", required=True)
    p.add_argument("--protocol", default="PLAINTEXT")
    p.add_argument("--mechanism")
    p.add_argument("--user")
    p.add_argument("--password")
    p.add_argument("--cafile")
    p.add_argument("--certfile")
    p.add_argument("--keyfile")
    p.add_argument("--timeout", type=float, default=20.0)
    return p.parse_args()


def kafka_python(a, value):
    import kafka
    from kafka import KafkaConsumer, KafkaProducer, TopicPartition

    common = dict(bootstrap_servers=a.bootstrap, security_protocol=a.protocol,
                  request_timeout_ms=int(a.timeout * 1000) + 1000, api_version_auto_timeout_ms=int(a.timeout * 1000))
    if a.mechanism:
        common.update(sasl_mechanism=a.mechanism, sasl_plain_username=a.user, sasl_plain_password=a.password)
    if a.cafile:
        common.update(ssl_cafile=a.cafile, ssl_check_hostname=True)
    if a.certfile:
        common.update(ssl_certfile=a.certfile, ssl_keyfile=a.keyfile)
    p = KafkaProducer(acks="all", max_block_ms=int(a.timeout * 1000), **common)
    p.send(a.topic, value=value, partition=0).get(timeout=a.timeout)
    p.close()
    c = KafkaConsumer(enable_auto_commit=False, group_id=None, **common)
    tp = TopicPartition(a.topic, 0)
    c.assign([tp])
    c.seek_to_beginning(tp)
    deadline = time.time() + a.timeout
    while time.time() < deadline:
        for recs in c.poll(timeout_ms=500).values():
            if any(r.value == value for r in recs):
                c.close()
                return
    raise RuntimeError("record not read back")


def confluent(a, value):
    from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition, OFFSET_BEGINNING

    conf = {"bootstrap.servers": a.bootstrap, "security.protocol": a.protocol}
    if a.mechanism:
        conf.update({"sasl.mechanisms": a.mechanism, "sasl.username": a.user, "sasl.password": a.password})
    if a.cafile:
        conf["ssl.ca.location"] = a.cafile
    if a.certfile:
        conf.update({"ssl.certificate.location": a.certfile, "ssl.key.location": a.keyfile})
    errors = []

    def on_error(err):
        # Authentication failures are fatal for the client: stop at once
        # rather than retry until the timeout.
        if err.code() in (KafkaError._AUTHENTICATION, KafkaError._SSL):
            errors.append(str(err))

    p = Producer(dict(conf, **{"error_cb": on_error, "message.timeout.ms": int(a.timeout * 1000)}))
    delivered = []
    p.produce(a.topic, value=value, partition=0, on_delivery=lambda err, msg: delivered.append(err))
    deadline = time.time() + a.timeout
    while not delivered and not errors and time.time() < deadline:
        p.poll(0.2)
    if errors:
        raise RuntimeError(errors[0])
    if not delivered or delivered[0] is not None:
        raise RuntimeError("delivery failed: %s" % (delivered or "timeout"))
    c = Consumer(dict(conf, **{"group.id": "auth-" + uuid.uuid4().hex, "enable.auto.commit": False, "error_cb": on_error}))
    c.assign([TopicPartition(a.topic, 0, OFFSET_BEGINNING)])
    while time.time() < deadline and not errors:
        m = c.poll(0.5)
        if m is not None and m.error() is None and m.value() == value:
            c.close()
            return
    c.close()
    raise RuntimeError(errors[0] if errors else "record not read back")


def main():
    a = parse()
    value = uuid.uuid4().hex.encode()
    try:
        (kafka_python if a.client == "kafka-python" else confluent)(a, value)
    except Exception as e:  # reported to the test, which judges it
        write_line({"error": "%s: %s" % (type(e).__name__, e)})
        sys.exit(3)
    write_line({"ok": True})


if __name__ == "__main__":
    main()
