"""Example Kafka app for the StreamBridge compose file: produces COUNT
records to KAFKA_TOPIC, then reads them back in a consumer group, as an
application's integration test would. Nothing in it knows it talks to the
bridge rather than Kafka: only KAFKA_BOOTSTRAP_SERVERS changes."""

import json
import os
import sys
import time
import uuid

from kafka import KafkaConsumer, KafkaProducer

bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "bridge:9092")
topic = os.environ.get("KAFKA_TOPIC", "example-orders")
count = int(os.environ.get("COUNT", "10"))
run = uuid.uuid4().hex[:8]

producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
for i in range(count):
    producer.send(topic, key=f"order-{i}".encode(), value=json.dumps({"run": run, "n": i}).encode())
producer.flush()
producer.close()

consumer = KafkaConsumer(
    topic,
    bootstrap_servers=bootstrap,
    group_id=f"example-{run}",
    auto_offset_reset="earliest",
    enable_auto_commit=True,
    consumer_timeout_ms=1000,
)
seen = set()
deadline = time.monotonic() + 60
while len(seen) < count and time.monotonic() < deadline:
    for msg in consumer:
        body = json.loads(msg.value)
        if body["run"] == run:
            seen.add(body["n"])
consumer.close()

print(json.dumps({"topic": topic, "produced": count, "consumed": len(seen)}))
sys.exit(0 if len(seen) == count else 1)
