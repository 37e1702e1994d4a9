"""Example Kinesis and SQS app for the StreamBridge compose file, with
boto3: puts records into a stream and reads them back from TRIM_HORIZON,
sends messages to a queue and receives and deletes them. As with
LocalStack, only the endpoint changes: AWS_ENDPOINT_URL (read here
explicitly, since boto3 before 1.28 ignores the variable)."""

import json
import os
import sys
import time
import uuid

import boto3

endpoint = os.environ.get("AWS_ENDPOINT_URL", "http://bridge:4566")
region = os.environ.get("AWS_REGION", os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
stream = os.environ.get("STREAM_NAME", "example-clicks")
queue = os.environ.get("QUEUE_NAME", "example-jobs")
count = int(os.environ.get("COUNT", "5"))
run = uuid.uuid4().hex[:8]

session = boto3.session.Session(
    aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "test"),
    aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
    region_name=region,
)
kinesis = session.client("kinesis", endpoint_url=endpoint)
sqs = session.client("sqs", endpoint_url=endpoint)

# Kinesis: create (or reuse) the stream, put, read back.
try:
    kinesis.create_stream(StreamName=stream, ShardCount=1)
except kinesis.exceptions.ResourceInUseException:
    pass
kinesis.get_waiter("stream_exists").wait(StreamName=stream, WaiterConfig={"Delay": 1})
for i in range(count):
    kinesis.put_record(StreamName=stream, PartitionKey=f"user-{i}", Data=json.dumps({"run": run, "n": i}).encode())
shard = kinesis.list_shards(StreamName=stream)["Shards"][0]["ShardId"]
it = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
got = set()
deadline = time.monotonic() + 60
while len(got) < count and time.monotonic() < deadline:
    page = kinesis.get_records(ShardIterator=it)
    for r in page["Records"]:
        body = json.loads(r["Data"])
        if body["run"] == run:
            got.add(body["n"])
    it = page["NextShardIterator"]

# SQS: create (or reuse) the queue, send, receive and delete.
url = sqs.create_queue(QueueName=queue)["QueueUrl"]
for i in range(count):
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"run": run, "n": i}))
received = set()
while len(received) < count and time.monotonic() < deadline:
    resp = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    for m in resp.get("Messages", []):
        body = json.loads(m["Body"])
        if body["run"] == run:
            received.add(body["n"])
        sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])

print(json.dumps({"stream": stream, "kinesis_read": len(got), "queue_url": url, "sqs_received": len(received)}))
sys.exit(0 if len(got) == count and len(received) == count else 1)
