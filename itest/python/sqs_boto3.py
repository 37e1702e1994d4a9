#!/usr/bin/python3
"""boto3 (1.26, Debian's python3-boto3) driver for the itest SQS tests.

boto3 1.26 talks to SQS with the Query protocol (form POSTs, XML answers),
so these scenarios prove the bridge's Query side.

  sqs_boto3.py standard --endpoint URL --prefix P
      every operation on standard queues named P-*: create (attributes,
      tags, same attributes = same queue, other attributes =
      QueueAlreadyExists), get-url, list (prefix, MaxResults/NextToken),
      attributes get and set, tags, permissions, send (attributes, MD5s),
      send-batch (per-entry failures and whole-request refusals), receive
      (MessageAttributeNames All and prefix.*, AttributeNames, long poll),
      change-visibility(+batch), delete(+batch), purge, delete-queue.
  sqs_boto3.py fifo --endpoint URL --prefix P
      FIFO queues: MessageGroupId and deduplication rules, order per group,
      content-based deduplication (5-minute window outliving deletion).
  sqs_boto3.py fifo-groups --endpoint URL --prefix P
      a group blocked while one of its messages is in flight,
      ReceiveRequestAttemptId.
  sqs_boto3.py dlq --endpoint URL --prefix P
      dead-letter queue after maxReceiveCount, ListDeadLetterSourceQueues.
  sqs_boto3.py dlq-move --endpoint URL --prefix P
      dlq, then StartMessageMoveTask back to the source, ListMessageMoveTasks,
      CancelMessageMoveTask (sent as signed Query requests: boto3 1.26
      predates them).

Each checked step is a JSON line on stdout: {"step": name, "ok": true}, or
{"step": name, "error": what} when the server answered otherwise; a
measurement is {"step": name, "latency_ms": x}. A step that fails does not
stop the scenario. The exit status is 0 unless the driver itself broke.
Credentials and region come from the environment (the test's dummies).
"""

import argparse
import hashlib
import json
import struct
import sys
import threading
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.exceptions import ClientError

ACCOUNT = "000000000000"
REGION = "us-east-1"


def write_line(obj):
    sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")
    sys.stdout.flush()


class CheckFailed(Exception):
    pass


def check(cond, what):
    if not cond:
        raise CheckFailed(what)


def eq(got, want, what):
    if got != want:
        raise CheckFailed(f"{what}: got {got!r}, want {want!r}")


def step(name, fn, *args):
    """Runs one step; reports it and returns its result (None if it failed)."""
    try:
        out = fn(*args)
        write_line({"step": name, "ok": True})
        return out
    except CheckFailed as e:
        write_line({"step": name, "error": str(e)})
    except ClientError as e:
        write_line({"step": name, "error": f"unexpected error {code(e)} ({status(e)}): {message(e)}"})
    except Exception as e:  # a bug in the driver or a client-side failure
        write_line({"step": name, "error": f"{type(e).__name__}: {e}\n{traceback.format_exc()}"})
    return None


def code(e):
    return e.response.get("Error", {}).get("Code")


def message(e):
    return e.response.get("Error", {}).get("Message")


def status(e):
    return e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")


def fails(fn, want_code, want_status=400, **kwargs):
    """Calls fn(**kwargs), which must fail with the Query error code."""
    try:
        fn(**kwargs)
    except ClientError as e:
        eq(code(e), want_code, "error code")
        eq(status(e), want_status, f"HTTP status of {want_code}")
        return e
    raise CheckFailed(f"succeeded, want {want_code}")


def client(endpoint, validate=True):
    """A boto3 SQS client. validate=False turns off botocore's own checks,
    so that requests the server must refuse reach the server."""
    return boto3.client(
        "sqs",
        endpoint_url=endpoint,
        region_name=REGION,
        config=Config(retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=10, read_timeout=60,
                      parameter_validation=validate),
    )


def md5_hex(b):
    if isinstance(b, str):
        b = b.encode("utf-8")
    return hashlib.md5(b).hexdigest()


def md5_of_attributes(attrs):
    """MD5OfMessageAttributes as AWS documents it: names in order; for each,
    length-prefixed name and type, a transport byte (1 string, 2 binary),
    length-prefixed value."""
    out = b""
    for name in sorted(attrs):
        a = attrs[name]
        out += struct.pack(">I", len(name.encode())) + name.encode()
        t = a["DataType"].encode()
        out += struct.pack(">I", len(t)) + t
        if a["DataType"].startswith("Binary"):
            out += b"\x02" + struct.pack(">I", len(a["BinaryValue"])) + a["BinaryValue"]
        else:
            v = a["StringValue"].encode()
            out += b"\x01" + struct.pack(">I", len(v)) + v
    return hashlib.md5(out).hexdigest()


def receive_all(sqs, url, want, **kwargs):
    """Receives until want messages arrived (standard queues may answer with
    fewer than there are), waiting at most 1 s per call. A message received
    twice (within its visibility timeout) is a failure."""
    got, ids = [], set()
    deadline = time.time() + 30
    while len(got) < want and time.time() < deadline:
        r = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, **kwargs)
        for m in r.get("Messages", []):
            check(m["MessageId"] not in ids, f"message {m['MessageId']} received twice")
            ids.add(m["MessageId"])
            got.append(m)
    eq(len(got), want, "messages received")
    return got


def make_visible(sqs, url, msgs):
    for m in msgs:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)


# ---- standard queues ----

ATTRS = {
    "s": {"DataType": "String", "StringValue": "héllo wörld"},
    "n": {"DataType": "Number", "StringValue": "-42.5e3"},
    "b": {"DataType": "Binary", "BinaryValue": bytes([0, 1, 2, 0xfe, 0xff])},
    "custom.a": {"DataType": "String.json", "StringValue": '{"k":1}'},
    "custom.b": {"DataType": "Binary.gz", "BinaryValue": b"\x1f\x8b"},
}


def standard(args):
    sqs = client(args.endpoint)
    raw = client(args.endpoint, validate=False)
    p = args.prefix
    urls = {}

    def create():
        a = sqs.create_queue(QueueName=f"{p}-a", Attributes={"VisibilityTimeout": "20", "MessageRetentionPeriod": "3600"},
                             tags={"team": "bridge", "env": "itest"})["QueueUrl"]
        eq(a, f"{args.endpoint}/{ACCOUNT}/{p}-a", "QueueUrl")
        again = sqs.create_queue(QueueName=f"{p}-a", Attributes={"VisibilityTimeout": "20", "MessageRetentionPeriod": "3600"},
                                 tags={"team": "bridge", "env": "itest"})
        eq(again["QueueUrl"], a, "QueueUrl of a second CreateQueue with the same attributes")
        e = fails(sqs.create_queue, "QueueAlreadyExists", QueueName=f"{p}-a", Attributes={"VisibilityTimeout": "21", "MessageRetentionPeriod": "3600"},
                  tags={"team": "bridge", "env": "itest"})
        eq(message(e), "A queue already exists with the same name and a different value for attribute VisibilityTimeout", "message")
        urls["a"] = a
        urls["b"] = sqs.create_queue(QueueName=f"{p}-b")["QueueUrl"]
        urls["c"] = sqs.create_queue(QueueName=f"{p}-c", Attributes={"MaximumMessageSize": "1024"})["QueueUrl"]
    step("CreateQueue", create)

    def get_url():
        eq(sqs.get_queue_url(QueueName=f"{p}-a")["QueueUrl"], urls["a"], "GetQueueUrl")
        e = fails(sqs.get_queue_url, "AWS.SimpleQueueService.NonExistentQueue", QueueName=f"{p}-missing")
        eq(message(e), "The specified queue does not exist for this wsdl version.", "message")
    step("GetQueueUrl", get_url)

    def list_queues():
        eq(sorted(sqs.list_queues(QueueNamePrefix=p).get("QueueUrls", [])), sorted(urls.values()), "ListQueues prefix")
        seen, token, pages = [], None, 0
        while True:
            kw = {"QueueNamePrefix": p, "MaxResults": 1}
            if token:
                kw["NextToken"] = token
            r = sqs.list_queues(**kw)
            pages += 1
            check(len(r.get("QueueUrls", [])) <= 1, f"page of {r.get('QueueUrls')} with MaxResults 1")
            seen += r.get("QueueUrls", [])
            token = r.get("NextToken")
            if not token or pages > 10:
                break
        eq(sorted(seen), sorted(urls.values()), "ListQueues pages with MaxResults 1")
        eq(sqs.list_queues(QueueNamePrefix=f"{p}-none").get("QueueUrls", []), [], "ListQueues of an unused prefix")
    step("ListQueues", list_queues)

    def attributes():
        at = sqs.get_queue_attributes(QueueUrl=urls["a"], AttributeNames=["All"])["Attributes"]
        for name in ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed", "ApproximateNumberOfMessagesNotVisible",
                     "CreatedTimestamp", "DelaySeconds", "LastModifiedTimestamp", "MaximumMessageSize", "MessageRetentionPeriod",
                     "QueueArn", "ReceiveMessageWaitTimeSeconds", "VisibilityTimeout"]:
            check(name in at, f"GetQueueAttributes All lacks {name}: {sorted(at)}")
        eq(at["VisibilityTimeout"], "20", "VisibilityTimeout")
        eq(at["MessageRetentionPeriod"], "3600", "MessageRetentionPeriod")
        eq(at["QueueArn"], f"arn:aws:sqs:{REGION}:{ACCOUNT}:{p}-a", "QueueArn")
        check(abs(int(at["CreatedTimestamp"]) - time.time()) < 600, f"CreatedTimestamp {at['CreatedTimestamp']} is not now, in seconds")
        some = sqs.get_queue_attributes(QueueUrl=urls["a"], AttributeNames=["QueueArn", "DelaySeconds"])["Attributes"]
        eq(sorted(some), ["DelaySeconds", "QueueArn"], "GetQueueAttributes of two names")
        sqs.set_queue_attributes(QueueUrl=urls["a"], Attributes={"VisibilityTimeout": "30", "DelaySeconds": "0"})
        eq(sqs.get_queue_attributes(QueueUrl=urls["a"], AttributeNames=["VisibilityTimeout"])["Attributes"],
           {"VisibilityTimeout": "30"}, "VisibilityTimeout after SetQueueAttributes")
        e = fails(sqs.set_queue_attributes, "InvalidAttributeValue", QueueUrl=urls["a"], Attributes={"MessageRetentionPeriod": "59"})
        eq(message(e), "Invalid value for the parameter MessageRetentionPeriod.", "message")
        e = fails(sqs.set_queue_attributes, "InvalidAttributeName", QueueUrl=urls["a"], Attributes={"NoSuchAttribute": "1"})
        eq(message(e), "Unknown Attribute NoSuchAttribute.", "message")
        fails(sqs.get_queue_attributes, "InvalidAttributeName", QueueUrl=urls["a"], AttributeNames=["NoSuchAttribute"])
    step("Get/SetQueueAttributes", attributes)

    def tags():
        eq(sqs.list_queue_tags(QueueUrl=urls["a"]).get("Tags"), {"team": "bridge", "env": "itest"}, "tags from CreateQueue")
        sqs.tag_queue(QueueUrl=urls["a"], Tags={"extra": "1", "team": "streams"})
        sqs.untag_queue(QueueUrl=urls["a"], TagKeys=["env"])
        eq(sqs.list_queue_tags(QueueUrl=urls["a"]).get("Tags"), {"team": "streams", "extra": "1"}, "tags after Tag/UntagQueue")
        eq(sqs.list_queue_tags(QueueUrl=urls["b"]).get("Tags", {}), {}, "tags of an untagged queue")
    step("Tag/Untag/ListQueueTags", tags)

    def permissions():
        sqs.add_permission(QueueUrl=urls["b"], Label="p1", AWSAccountIds=[ACCOUNT], Actions=["SendMessage", "ReceiveMessage"])
        pol = json.loads(sqs.get_queue_attributes(QueueUrl=urls["b"], AttributeNames=["Policy"])["Attributes"]["Policy"])
        stmts = pol["Statement"] if isinstance(pol["Statement"], list) else [pol["Statement"]]
        eq([s.get("Sid") for s in stmts], ["p1"], "policy statements after AddPermission")
        e = fails(sqs.add_permission, "InvalidParameterValue", QueueUrl=urls["b"], Label="p1", AWSAccountIds=[ACCOUNT], Actions=["SendMessage"])
        eq(message(e), "Value p1 for parameter Label is invalid. Reason: Already exists.", "message")
        sqs.remove_permission(QueueUrl=urls["b"], Label="p1")
        e = fails(sqs.remove_permission, "InvalidParameterValue", QueueUrl=urls["b"], Label="p1")
        eq(message(e), "Value p1 for parameter Label is invalid. Reason: can't find label.", "message")
    step("Add/RemovePermission", permissions)

    sent = {}

    def send():
        body = "boto3 body ✓ " + "x" * 100
        r = sqs.send_message(QueueUrl=urls["a"], MessageBody=body, MessageAttributes=ATTRS)
        sent[r["MessageId"]] = body
        plain = sqs.send_message(QueueUrl=urls["a"], MessageBody="plain")
        sent[plain["MessageId"]] = "plain"
        eq(r["MD5OfMessageBody"], md5_hex(body), "MD5OfMessageBody")
        eq(r["MD5OfMessageAttributes"], md5_of_attributes(ATTRS), "MD5OfMessageAttributes")
        check("MD5OfMessageAttributes" not in plain, f"MD5OfMessageAttributes without attributes: {plain}")
        e = fails(raw.send_message, "MissingParameter", QueueUrl=urls["a"], MessageBody="")
        eq(message(e), "The request must contain the parameter MessageBody.", "message")
    step("SendMessage", send)

    def send_batch():
        entries = [{"Id": f"m{i}", "MessageBody": f"batch {i}"} for i in range(4)]
        entries[1]["MessageAttributes"] = {"n": {"DataType": "Number", "StringValue": "1"}}
        r = sqs.send_message_batch(QueueUrl=urls["a"], Entries=entries)
        eq(sorted(x["Id"] for x in r.get("Successful", [])), ["m0", "m1", "m2", "m3"], "Successful ids")
        eq(r.get("Failed", []), [], "Failed")
        for x in r["Successful"]:
            i = int(x["Id"][1:])
            eq(x["MD5OfMessageBody"], md5_hex(f"batch {i}"), "MD5OfMessageBody of " + x["Id"])
            sent[x["MessageId"]] = f"batch {i}"
        eq(next(x for x in r["Successful"] if x["Id"] == "m1")["MD5OfMessageAttributes"],
           md5_of_attributes(entries[1]["MessageAttributes"]), "MD5OfMessageAttributes of m1")
        # One entry over the queue's MaximumMessageSize fails alone.
        r = sqs.send_message_batch(QueueUrl=urls["c"], Entries=[{"Id": "fits", "MessageBody": "a" * 1024},
                                                                  {"Id": "big", "MessageBody": "a" * 1025}])
        eq([x["Id"] for x in r.get("Successful", [])], ["fits"], "Successful with one entry too big")
        eq([(x["Id"], x["Code"], x["SenderFault"]) for x in r.get("Failed", [])], [("big", "InvalidParameterValue", True)], "Failed")
        # Whole-request refusals.
        e = fails(raw.send_message_batch, "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", QueueUrl=urls["c"],
                  Entries=[{"Id": "x", "MessageBody": "1"}, {"Id": "x", "MessageBody": "2"}])
        eq(message(e), "Id x repeated.", "message")
        fails(raw.send_message_batch, "AWS.SimpleQueueService.InvalidBatchEntryId", QueueUrl=urls["c"],
              Entries=[{"Id": "bad id!", "MessageBody": "1"}])
        e = fails(raw.send_message_batch, "AWS.SimpleQueueService.TooManyEntriesInBatchRequest", QueueUrl=urls["c"],
                  Entries=[{"Id": f"e{i}", "MessageBody": "1"} for i in range(11)])
        eq(message(e), "Maximum number of entries per request are 10. You have sent 11.", "message")
        fails(raw.send_message_batch, "AWS.SimpleQueueService.EmptyBatchRequest", QueueUrl=urls["c"], Entries=[])
        fails(raw.send_message_batch, "AWS.SimpleQueueService.BatchRequestTooLong", QueueUrl=urls["b"],
              Entries=[{"Id": f"e{i}", "MessageBody": "a" * (300 * 1024)} for i in range(4)])
    step("SendMessageBatch", send_batch)

    handles = {}

    def receive():
        msgs = receive_all(sqs, urls["a"], len(sent), AttributeNames=["All"], MessageAttributeNames=["All"])
        for m in msgs:
            handles[m["Body"]] = m["ReceiptHandle"]
        for m in msgs:
            check(m["MessageId"] in sent, f"unexpected message {m['MessageId']}")
            eq(m["Body"], sent[m["MessageId"]], "Body")
            eq(m["MD5OfBody"], md5_hex(m["Body"]), "MD5OfBody")
            a = m.get("Attributes", {})
            for name in ["SenderId", "SentTimestamp", "ApproximateReceiveCount", "ApproximateFirstReceiveTimestamp"]:
                check(name in a, f"AttributeNames All lacks {name}: {sorted(a)}")
            eq(a["ApproximateReceiveCount"], "1", "ApproximateReceiveCount")
            if m.get("MessageAttributes"):
                eq(m["MD5OfMessageAttributes"], md5_of_attributes(m["MessageAttributes"]), "MD5OfMessageAttributes")
        full = next(m for m in msgs if m["Body"].startswith("boto3 body"))
        eq(full["MessageAttributes"], ATTRS, "MessageAttributes")
        eq(sqs.receive_message(QueueUrl=urls["a"], WaitTimeSeconds=0).get("Messages", []), [], "receive while all are in flight")
    step("ReceiveMessage All", receive)

    def visibility():
        body = next(b for b in handles if b.startswith("boto3 body"))
        sqs.change_message_visibility(QueueUrl=urls["a"], ReceiptHandle=handles[body], VisibilityTimeout=0)
        m = receive_all(sqs, urls["a"], 1, MessageAttributeNames=["custom.*"], AttributeNames=["ApproximateReceiveCount"])[0]
        eq(m["Body"], body, "Body of the message made visible")
        eq(m["MessageAttributes"], {k: v for k, v in ATTRS.items() if k.startswith("custom.")}, "MessageAttributes custom.*")
        eq(m["MD5OfMessageAttributes"], md5_of_attributes(m["MessageAttributes"]), "MD5OfMessageAttributes of custom.*")
        eq(m["Attributes"], {"ApproximateReceiveCount": "2"}, "Attributes")
        handles[body] = m["ReceiptHandle"]
        r = sqs.change_message_visibility_batch(QueueUrl=urls["a"], Entries=[
            {"Id": "one", "ReceiptHandle": handles["batch 0"], "VisibilityTimeout": 0},
            {"Id": "two", "ReceiptHandle": handles["batch 1"], "VisibilityTimeout": 0},
            {"Id": "bad", "ReceiptHandle": "garbage", "VisibilityTimeout": 0}])
        eq(sorted(x["Id"] for x in r.get("Successful", [])), ["one", "two"], "Successful")
        eq([(x["Id"], x["Code"], x["SenderFault"]) for x in r.get("Failed", [])], [("bad", "ReceiptHandleIsInvalid", True)], "Failed")
        for m in receive_all(sqs, urls["a"], 2, MessageAttributeNames=["n"]):
            handles[m["Body"]] = m["ReceiptHandle"]
            if m["Body"] == "batch 1":
                eq(m["MessageAttributes"], {"n": {"DataType": "Number", "StringValue": "1"}}, "MessageAttributes n")
            else:
                check("MessageAttributes" not in m, f"MessageAttributes of batch 0: {m}")
        fails(sqs.change_message_visibility, "ReceiptHandleIsInvalid", 404, QueueUrl=urls["a"], ReceiptHandle="garbage", VisibilityTimeout=0)
    step("ChangeMessageVisibility(Batch)", visibility)

    def delete():
        sqs.delete_message(QueueUrl=urls["a"], ReceiptHandle=handles.pop("plain"))
        entries = [{"Id": f"d{i}", "ReceiptHandle": h} for i, h in enumerate(handles.values())]
        r = sqs.delete_message_batch(QueueUrl=urls["a"], Entries=entries + [{"Id": "bad", "ReceiptHandle": "garbage"}])
        eq(sorted(x["Id"] for x in r.get("Successful", [])), sorted(e["Id"] for e in entries), "Successful")
        eq([(x["Id"], x["Code"], x["SenderFault"]) for x in r.get("Failed", [])], [("bad", "ReceiptHandleIsInvalid", True)], "Failed")
        e = fails(sqs.delete_message, "ReceiptHandleIsInvalid", 404, QueueUrl=urls["a"], ReceiptHandle="garbage")
        eq(message(e), 'The input receipt handle "garbage" is not a valid receipt handle.', "message")
        at = sqs.get_queue_attributes(QueueUrl=urls["a"], AttributeNames=["All"])["Attributes"]
        eq((at["ApproximateNumberOfMessages"], at["ApproximateNumberOfMessagesNotVisible"]), ("0", "0"), "counts after deleting all")
    step("DeleteMessage(Batch)", delete)

    def long_poll():
        b2 = client(args.endpoint)
        got = {}

        def waiter():
            t0 = time.time()
            got["r"] = b2.receive_message(QueueUrl=urls["b"], WaitTimeSeconds=10)
            got["t"] = time.time()
            got["t0"] = t0
        th = threading.Thread(target=waiter)
        th.start()
        time.sleep(1.0)
        sent_at = time.time()
        sqs.send_message(QueueUrl=urls["b"], MessageBody="wake up")
        th.join(30)
        check("r" in got, "long poll did not return")
        eq([m["Body"] for m in got["r"].get("Messages", [])], ["wake up"], "long poll answer")
        check(got["t"] - got["t0"] < 9, f"long poll took {got['t'] - got['t0']:.1f}s of its 10 s wait after a send at 1 s")
        write_line({"step": "long poll wake-up after send", "latency_ms": max(0.01, (got["t"] - sent_at) * 1000)})
    step("ReceiveMessage long poll", long_poll)

    def counters_and_purge():
        sqs.send_message(QueueUrl=urls["b"], MessageBody="delayed", DelaySeconds=900)
        sqs.send_message(QueueUrl=urls["b"], MessageBody="waiting")
        at = sqs.get_queue_attributes(QueueUrl=urls["b"], AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"])["Attributes"]
        # "wake up" is in flight since the long poll.
        eq(at, {"ApproximateNumberOfMessages": "1", "ApproximateNumberOfMessagesNotVisible": "1",
                "ApproximateNumberOfMessagesDelayed": "1"}, "counters")
        sqs.purge_queue(QueueUrl=urls["b"])
        at = sqs.get_queue_attributes(QueueUrl=urls["b"], AttributeNames=["All"])["Attributes"]
        eq((at["ApproximateNumberOfMessages"], at["ApproximateNumberOfMessagesNotVisible"], at["ApproximateNumberOfMessagesDelayed"]),
           ("0", "0", "0"), "counters after PurgeQueue")
        e = fails(sqs.purge_queue, "AWS.SimpleQueueService.PurgeQueueInProgress", 403, QueueUrl=urls["b"])
        eq(message(e), f"Only one PurgeQueue operation on {p}-b is allowed every 60 seconds.", "message")
    step("Approximate counters, PurgeQueue", counters_and_purge)

    def delete_queues():
        for u in urls.values():
            sqs.delete_queue(QueueUrl=u)
        fails(sqs.get_queue_url, "AWS.SimpleQueueService.NonExistentQueue", QueueName=f"{p}-a")
        fails(sqs.send_message, "AWS.SimpleQueueService.NonExistentQueue", QueueUrl=urls["a"], MessageBody="x")
        eq(sqs.list_queues(QueueNamePrefix=p).get("QueueUrls", []), [], "ListQueues after DeleteQueue")
    step("DeleteQueue", delete_queues)


# ---- FIFO queues ----

def create_fifo(sqs, p, q):
    q["f"] = sqs.create_queue(QueueName=f"{p}-f.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    q["cbd"] = sqs.create_queue(QueueName=f"{p}-cbd.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"})["QueueUrl"]
    at = sqs.get_queue_attributes(QueueUrl=q["f"], AttributeNames=["All"])["Attributes"]
    eq((at.get("FifoQueue"), at.get("ContentBasedDeduplication")), ("true", "false"), "FIFO attributes")


def send_groups(sqs, url, groups, n):
    """Sends n messages to each group, interleaved; returns body -> MessageId
    and checks that SequenceNumbers increase within each group."""
    ids, seqs = {}, {g: [] for g in groups}
    for i in range(n):
        for g in groups:
            r = sqs.send_message(QueueUrl=url, MessageBody=f"{g}-{i}", MessageGroupId=g, MessageDeduplicationId=f"{g}-{i}")
            ids[f"{g}-{i}"] = r["MessageId"]
            seqs[g].append(int(r["SequenceNumber"]))
    for g, ns in seqs.items():
        check(all(a < b for a, b in zip(ns, ns[1:])), f"SequenceNumbers of group {g} do not increase: {ns}")
    return ids


def fifo(args):
    """FIFO rules that need no group blocking: refusals, deduplication,
    order within each group, content-based deduplication."""
    sqs = client(args.endpoint)
    raw = client(args.endpoint, validate=False)
    p = args.prefix
    q = {}
    step("CreateQueue FIFO", create_fifo, sqs, p, q)

    def refusals():
        e = fails(raw.send_message, "MissingParameter", QueueUrl=q["f"], MessageBody="x", MessageDeduplicationId="d")
        eq(message(e), "The request must contain the parameter MessageGroupId.", "message")
        e = fails(raw.send_message, "InvalidParameterValue", QueueUrl=q["f"], MessageBody="x", MessageGroupId="g")
        eq(message(e), "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly",
           "message")
        e = fails(raw.send_message, "InvalidParameterValue", QueueUrl=q["f"], MessageBody="x", MessageGroupId="g",
                  MessageDeduplicationId="d", DelaySeconds=2)
        eq(message(e), "Value 2 for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type.",
           "message")
    step("SendMessage FIFO refusals", refusals)

    def order_and_dedup():
        ids = send_groups(sqs, q["f"], ["g1", "g2"], 4)
        again = sqs.send_message(QueueUrl=q["f"], MessageBody="g1-1 again", MessageGroupId="g1", MessageDeduplicationId="g1-1")
        eq(again["MessageId"], ids["g1-1"], "MessageId of a deduplicated send")
        r = sqs.send_message_batch(QueueUrl=q["f"], Entries=[
            {"Id": "a", "MessageBody": "g2-4", "MessageGroupId": "g2", "MessageDeduplicationId": "g2-4"},
            {"Id": "b", "MessageBody": "g2-0 again", "MessageGroupId": "g2", "MessageDeduplicationId": "g2-0"}])
        eq(sorted(x["Id"] for x in r["Successful"]), ["a", "b"], "SendMessageBatch FIFO")
        eq(next(x for x in r["Successful"] if x["Id"] == "b")["MessageId"], ids["g2-0"], "MessageId of a deduplicated batch entry")
        got = []
        deadline = time.time() + 30
        while len(got) < 9 and time.time() < deadline:
            msgs = sqs.receive_message(QueueUrl=q["f"], MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                       AttributeNames=["All"]).get("Messages", [])
            for m in msgs:
                a = m["Attributes"]
                eq((a.get("MessageGroupId"), a.get("MessageDeduplicationId")), (m["Body"][:2], m["Body"]), "FIFO system attributes")
                check(a.get("SequenceNumber"), "no SequenceNumber attribute")
                got.append(m["Body"])
                sqs.delete_message(QueueUrl=q["f"], ReceiptHandle=m["ReceiptHandle"])
        eq([b for b in got if b.startswith("g1")], [f"g1-{i}" for i in range(4)], "order of group g1")
        eq([b for b in got if b.startswith("g2")], [f"g2-{i}" for i in range(5)], "order of group g2 (duplicates not delivered)")
    step("FIFO order per group, deduplication", order_and_dedup)

    def content_based():
        a = sqs.send_message(QueueUrl=q["cbd"], MessageBody="same body", MessageGroupId="g")
        b = sqs.send_message(QueueUrl=q["cbd"], MessageBody="same body", MessageGroupId="g")
        eq(b["MessageId"], a["MessageId"], "MessageId of the same body sent twice")
        r = sqs.receive_message(QueueUrl=q["cbd"], MaxNumberOfMessages=10, WaitTimeSeconds=1, AttributeNames=["MessageDeduplicationId"])
        msgs = r.get("Messages", [])
        eq([m["Body"] for m in msgs], ["same body"], "messages")
        eq(msgs[0]["Attributes"]["MessageDeduplicationId"], hashlib.sha256(b"same body").hexdigest(), "content-based MessageDeduplicationId")
        sqs.delete_message(QueueUrl=q["cbd"], ReceiptHandle=msgs[0]["ReceiptHandle"])
        c = sqs.send_message(QueueUrl=q["cbd"], MessageBody="same body", MessageGroupId="g")
        eq(c["MessageId"], a["MessageId"], "MessageId of the same body sent again after its deletion (5-minute window)")
        eq(sqs.receive_message(QueueUrl=q["cbd"], WaitTimeSeconds=1).get("Messages", []), [], "receive after a deduplicated resend")
    step("FIFO content-based deduplication", content_based)

    for u in q.values():
        sqs.delete_queue(QueueUrl=u)


def fifo_groups(args):
    """A message group blocked while one of its messages is in flight;
    ReceiveRequestAttemptId."""
    sqs = client(args.endpoint)
    p = args.prefix
    q = {}
    step("CreateQueue FIFO", create_fifo, sqs, p, q)

    def blocking():
        send_groups(sqs, q["f"], ["g1", "g2"], 4)
        first = sqs.receive_message(QueueUrl=q["f"], MaxNumberOfMessages=1)["Messages"][0]
        eq(first["Body"], "g1-0", "first message")
        rest = []
        for _ in range(3):
            rest += sqs.receive_message(QueueUrl=q["f"], MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        eq([m["Body"] for m in rest], [f"g2-{i}" for i in range(4)], "receives while g1 is in flight")
        for m in [first] + rest:
            sqs.delete_message(QueueUrl=q["f"], ReceiptHandle=m["ReceiptHandle"])
        got = []
        for _ in range(5):
            for m in sqs.receive_message(QueueUrl=q["f"], MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", []):
                got.append(m["Body"])
                sqs.delete_message(QueueUrl=q["f"], ReceiptHandle=m["ReceiptHandle"])
            if len(got) >= 3:
                break
        eq(got, ["g1-1", "g1-2", "g1-3"], "g1 after its first message was deleted")
    step("FIFO group blocked while in flight", blocking)

    def attempt_id():
        for i in range(3):
            sqs.send_message(QueueUrl=q["f"], MessageBody=f"att-{i}", MessageGroupId="att", MessageDeduplicationId=f"att-{i}")
        r1 = sqs.receive_message(QueueUrl=q["f"], MaxNumberOfMessages=2, ReceiveRequestAttemptId="attempt-1")["Messages"]
        r2 = sqs.receive_message(QueueUrl=q["f"], MaxNumberOfMessages=2, ReceiveRequestAttemptId="attempt-1")["Messages"]
        eq([m["MessageId"] for m in r2], [m["MessageId"] for m in r1], "messages of a retried ReceiveRequestAttemptId")
        eq([m["Body"] for m in r1], ["att-0", "att-1"], "bodies")
    step("FIFO ReceiveRequestAttemptId", attempt_id)

    for u in q.values():
        sqs.delete_queue(QueueUrl=u)


# ---- dead-letter queues ----

def dlq(args, then=None):
    """Messages move to the dead-letter queue after maxReceiveCount
    receives; then(q) runs before the queues are deleted."""
    sqs = client(args.endpoint)
    p = args.prefix
    q = {}

    def create():
        q["dlq"] = sqs.create_queue(QueueName=f"{p}-dlq")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=q["dlq"], AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        q["arn"] = arn
        policy = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": "2"})
        q["src"] = sqs.create_queue(QueueName=f"{p}-src", Attributes={"RedrivePolicy": policy})["QueueUrl"]
        got = json.loads(sqs.get_queue_attributes(QueueUrl=q["src"], AttributeNames=["RedrivePolicy"])["Attributes"]["RedrivePolicy"])
        eq(got["deadLetterTargetArn"], arn, "deadLetterTargetArn")
        eq(int(got["maxReceiveCount"]), 2, "maxReceiveCount")
        eq(sqs.list_dead_letter_source_queues(QueueUrl=q["dlq"]).get("queueUrls", []), [q["src"]], "ListDeadLetterSourceQueues")
    step("CreateQueue with RedrivePolicy", create)

    def redrive():
        for i in range(2):
            sqs.send_message(QueueUrl=q["src"], MessageBody=f"poison-{i}")
        for n in (1, 2):
            msgs = receive_all(sqs, q["src"], 2, AttributeNames=["ApproximateReceiveCount"])
            eq(sorted(m["Attributes"]["ApproximateReceiveCount"] for m in msgs), [str(n)] * 2, f"receive counts at receive {n}")
            make_visible(sqs, q["src"], msgs)
        eq(sqs.receive_message(QueueUrl=q["src"], MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", []), [],
           "source after maxReceiveCount receives")
        moved = receive_all(sqs, q["dlq"], 2)
        eq(sorted(m["Body"] for m in moved), ["poison-0", "poison-1"], "bodies in the dead-letter queue")
        make_visible(sqs, q["dlq"], moved)
    step("messages move to the DLQ after maxReceiveCount", redrive)

    if then:
        then(sqs, q)
    for u in (q.get("src"), q.get("dlq")):
        if u:
            sqs.delete_queue(QueueUrl=u)


def dlq_move(args):
    """StartMessageMoveTask moves the dead-letter queue's messages back to
    their source; ListMessageMoveTasks and CancelMessageMoveTask."""
    p = args.prefix

    def move(sqs, q):
        def move_back():
            # boto3 1.26's service model predates the move-task operations
            # (June 2023), so they go as Query requests that botocore signs.
            st, e = query(args.endpoint, "StartMessageMoveTask", {"SourceArn": queue_arn(p, "src")})
            eq((st, e.get("Code"), e.get("Message")), (400, "InvalidParameterValue", "Source queue must be configured as a Dead Letter Queue."),
               "StartMessageMoveTask of a queue that is no dead-letter queue")
            st, r = query(args.endpoint, "StartMessageMoveTask", {"SourceArn": q["arn"]})
            eq(st, 200, f"StartMessageMoveTask status ({r})")
            check(r.get("TaskHandle"), f"no TaskHandle in {r}")
            deadline = time.time() + 60
            while True:
                st, t = query(args.endpoint, "ListMessageMoveTasks", {"SourceArn": q["arn"]})
                eq(st, 200, f"ListMessageMoveTasks status ({t})")
                check(t.get("Status"), f"ListMessageMoveTasks listed no task: {t}")
                if t["Status"] == "COMPLETED" or time.time() > deadline:
                    break
                time.sleep(0.2)
            eq(t["Status"], "COMPLETED", "move task status")
            eq(t.get("ApproximateNumberOfMessagesMoved"), "2", "ApproximateNumberOfMessagesMoved")
            back = receive_all(sqs, q["src"], 2)
            eq(sorted(m["Body"] for m in back), ["poison-0", "poison-1"], "bodies moved back to the source")
            st, e = query(args.endpoint, "CancelMessageMoveTask", {"TaskHandle": "not-a-handle"})
            eq((st, e.get("Code"), e.get("Message")), (400, "InvalidParameterValue", "Value for parameter TaskHandle is invalid."),
               "CancelMessageMoveTask of a made-up handle")
        step("StartMessageMoveTask back to the source", move_back)
    dlq(args, then=move)


def queue_arn(prefix, name):
    return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{prefix}-{name}"


def query(endpoint, action, params):
    """Sends one Query request signed by botocore (SigV4, the environment's
    credentials) and returns the HTTP status and the answer's leaf elements
    by local name (the first of each), e.g. {"TaskHandle": ...} or
    {"Code": ..., "Message": ...}."""
    body = urllib.parse.urlencode({"Action": action, "Version": "2012-11-05", **params})
    req = AWSRequest(method="POST", url=endpoint + "/", data=body,
                     headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(boto3.Session().get_credentials(), "sqs", REGION).add_auth(req)
    prepared = req.prepare()
    hreq = urllib.request.Request(prepared.url, data=body.encode(), headers=dict(prepared.headers), method="POST")
    try:
        with urllib.request.urlopen(hreq, timeout=60) as resp:
            st, raw = resp.status, resp.read()
    except urllib.error.HTTPError as e:
        st, raw = e.code, e.read()
    out = {}
    for el in ET.fromstring(raw).iter():
        name = el.tag.rsplit("}", 1)[-1]
        if len(el) == 0 and name not in out:
            out[name] = el.text
    return st, out


SCENARIOS = {"standard": standard, "fifo": fifo, "fifo-groups": fifo_groups, "dlq": dlq, "dlq-move": dlq_move}


def main():
    ap = argparse.ArgumentParser(description="boto3 SQS scenarios for the itest SQS tests")
    ap.add_argument("scenario", choices=sorted(SCENARIOS))
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--prefix", required=True)
    args = ap.parse_args()
    SCENARIOS[args.scenario](args)


if __name__ == "__main__":
    main()
