#!/usr/bin/python3
"""boto3 (1.26) as the AWS SQS extended clients use SQS and S3, for the
itest large-payload tests. No extended client library is installable here
(neither amazon-sqs-extended-client on PyPI nor sqs-extended-client on npm
is served), so this driver does, step by step, what the Java and Python
extended clients do on the wire.

  sqs_extended_boto3.py receive --endpoint URL --queue-url Q --size N --sha256 H
      receives one message in the extended clients' form (pointer body,
      ExtendedPayloadSize Number attribute, Java-style receipt handle),
      downloads the object the pointer names and checks it is the payload,
      then deletes the message with the handle as received (what a plain
      client does; the Java client would delete the object and send the
      inner handle) and checks the object and the message are gone.
  sqs_extended_boto3.py send --endpoint URL --queue-url Q --bucket B --size N
      writes an N-byte payload as an object, then sends the pointer message
      the extended clients send; reports the payload's sha256 and key.

Each checked step is a JSON line {"step": name, "ok": true, ...} or
{"step": name, "error": what}. Credentials and region come from the
environment.
"""

import argparse
import hashlib
import json
import os
import sys
import traceback
import uuid

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

POINTER_CLASS = "software.amazon.payloadoffloading.PayloadS3Pointer"
BUCKET_MARKER = "-..s3BucketName..-"
KEY_MARKER = "-..s3Key..-"


def write_line(obj):
    sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")
    sys.stdout.flush()


class CheckFailed(Exception):
    pass


def check(cond, what):
    if not cond:
        raise CheckFailed(what)


def step(name, fn, *args):
    try:
        out = fn(*args) or {}
        write_line({"step": name, "ok": True, **out})
        return out
    except CheckFailed as e:
        write_line({"step": name, "error": str(e)})
    except ClientError as e:
        write_line({"step": name, "error": f"unexpected error {e.response.get('Error', {})}"})
    except Exception as e:
        write_line({"step": name, "error": f"{type(e).__name__}: {e}\n{traceback.format_exc()}"})
    return None


def clients(endpoint):
    cfg = Config(retries={"max_attempts": 2, "mode": "standard"}, read_timeout=120, s3={"addressing_style": "path"})
    return (boto3.client("sqs", endpoint_url=endpoint, config=cfg),
            boto3.client("s3", endpoint_url=endpoint, config=cfg))


def split_handle(h):
    """The Java extended client's receipt handle: bucket, key, inner handle."""
    check(h.startswith(BUCKET_MARKER), f"receipt handle {h[:60]!r} does not start with the bucket marker")
    rest = h[len(BUCKET_MARKER):]
    bucket, rest = rest.split(BUCKET_MARKER + KEY_MARKER, 1)
    key, inner = rest.split(KEY_MARKER, 1)
    return bucket, key, inner


def receive(a):
    sqs, s3 = clients(a.endpoint)
    state = {}

    def get():
        out = sqs.receive_message(QueueUrl=a.queue_url, MaxNumberOfMessages=1, WaitTimeSeconds=5,
                                  MessageAttributeNames=["All"], VisibilityTimeout=120)
        msgs = out.get("Messages", [])
        check(len(msgs) == 1, f"received {len(msgs)} messages")
        state["m"] = msgs[0]

    def pointer_form():
        m = state["m"]
        body = json.loads(m["Body"])
        check(isinstance(body, list) and len(body) == 2 and body[0] == POINTER_CLASS, f"body {m['Body'][:200]!r}")
        state["pointer"] = body[1]
        attr = m.get("MessageAttributes", {}).get("ExtendedPayloadSize")
        check(attr is not None, f"no ExtendedPayloadSize attribute in {m.get('MessageAttributes')}")
        check(attr["DataType"] == "Number", f"ExtendedPayloadSize is a {attr['DataType']}")
        check(int(attr["StringValue"]) == a.size, f"ExtendedPayloadSize {attr['StringValue']}, want {a.size}")
        check(hashlib.md5(m["Body"].encode()).hexdigest() == m["MD5OfBody"], "MD5OfBody")

    def handle():
        bucket, key, inner = split_handle(state["m"]["ReceiptHandle"])
        p = state["pointer"]
        check((bucket, key) == (p["s3BucketName"], p["s3Key"]), f"handle names {bucket}/{key}, body {p}")
        check(inner, "no inner handle")
        return {"bucket": bucket, "key": key}

    def download():
        p = state["pointer"]
        obj = s3.get_object(Bucket=p["s3BucketName"], Key=p["s3Key"])
        data = obj["Body"].read()
        check(len(data) == a.size, f"object of {len(data)} bytes, want {a.size}")
        check(hashlib.sha256(data).hexdigest() == a.sha256, "the object is not the payload")

    def delete():
        sqs.delete_message(QueueUrl=a.queue_url, ReceiptHandle=state["m"]["ReceiptHandle"])
        p = state["pointer"]
        try:
            s3.head_object(Bucket=p["s3BucketName"], Key=p["s3Key"])
        except ClientError as e:
            check(e.response["ResponseMetadata"]["HTTPStatusCode"] == 404, f"head_object: {e}")
        else:
            raise CheckFailed("the object outlived DeleteMessage")
        out = sqs.receive_message(QueueUrl=a.queue_url, WaitTimeSeconds=1)
        check(not out.get("Messages"), "the message is still there")

    if step("receive", get) is None:
        return
    step("pointer form", pointer_form)
    step("java receipt handle", handle)
    step("download payload", download)
    step("delete message and object", delete)


def send(a):
    sqs, s3 = clients(a.endpoint)
    payload = os.urandom(a.size)
    key = str(uuid.uuid4())  # the extended clients' key: a UUID

    def put():
        try:
            s3.create_bucket(Bucket=a.bucket)
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise
        s3.put_object(Bucket=a.bucket, Key=key, Body=payload)

    def send_pointer():
        body = json.dumps([POINTER_CLASS, {"s3BucketName": a.bucket, "s3Key": key}])
        sqs.send_message(QueueUrl=a.queue_url, MessageBody=body, MessageAttributes={
            "ExtendedPayloadSize": {"DataType": "Number", "StringValue": str(a.size)},
        })
        return {"key": key, "sha256": hashlib.sha256(payload).hexdigest()}

    if step("put object", put) is not None:
        step("send pointer", send_pointer)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("scenario", choices=["receive", "send"])
    p.add_argument("--endpoint", required=True)
    p.add_argument("--queue-url", required=True)
    p.add_argument("--size", type=int, required=True)
    p.add_argument("--sha256")
    p.add_argument("--bucket")
    a = p.parse_args()
    {"receive": receive, "send": send}[a.scenario](a)


if __name__ == "__main__":
    main()
