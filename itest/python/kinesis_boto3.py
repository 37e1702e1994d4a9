#!/usr/bin/python3
"""boto3 (1.26, Debian's python3-boto3) driver for the itest Kinesis tests.

  kinesis_boto3.py scenario --endpoint URL --stream S --region R --account A
      walks the API a boto3 user walks (create + waiter, describe, list
      shards, puts with binary data and explicit hash keys, every iterator
      type, reads until caught up, split, merge, update shard count, tags,
      retention, errors, delete + waiter), checking every answer itself.
      Prints the records it put and still expects in the stream as JSON
      lines, so the Go test can read them back with another client.
  kinesis_boto3.py put --endpoint URL --stream S  < records.jsonl > acks.jsonl
      PutRecords (in chunks of 500); one ack per input record, in order:
      {"shard": id, "seq": n} or {"error": code}.
  kinesis_boto3.py get --endpoint URL --stream S --min N > records.jsonl
      reads every shard from TRIM_HORIZON until at least N records are read
      and every shard is caught up (MillisBehindLatest 0) or ended.
  kinesis_boto3.py split --endpoint URL --stream S --shard ID --at HASHKEY
      SplitShard, then the stream_exists waiter until the stream is ACTIVE.

Records are JSON lines: {"pk", "data" (base64), "ehk", "shard", "seq", "ts" (ms)}.
Credentials and region come from the environment (the test's dummies).
Run with /usr/bin/python3, where Debian installs boto3.
"""

import argparse
import base64
import datetime
import hashlib
import json
import sys
import time

import boto3
import botocore
from botocore.config import Config
from botocore.exceptions import ClientError

MAX_HASH = 2**128 - 1


def write_line(obj):
    sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def client(args, validate=True):
    """A boto3 Kinesis client for the bridge. validate=False turns off
    botocore's own checks of lengths and ranges, so that requests the
    server must reject reach the server."""
    return boto3.client(
        "kinesis",
        endpoint_url=args.endpoint,
        config=Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=10, read_timeout=60,
                      parameter_validation=validate),
    )


def out_rec(r, shard):
    return {
        "pk": r["PartitionKey"],
        "data": base64.b64encode(r["Data"]).decode("ascii"),
        "shard": shard,
        "seq": r["SequenceNumber"],
        "ts": int(r["ApproximateArrivalTimestamp"].timestamp() * 1000),
    }


def put(args):
    k = client(args)
    recs = [json.loads(line) for line in sys.stdin if line.strip()]
    for i in range(0, len(recs), 500):
        chunk = recs[i:i + 500]
        entries = []
        for r in chunk:
            e = {"Data": base64.b64decode(r.get("data") or ""), "PartitionKey": r["pk"]}
            if r.get("ehk"):
                e["ExplicitHashKey"] = r["ehk"]
            entries.append(e)
        resp = k.put_records(StreamName=args.stream, Records=entries)
        for res in resp["Records"]:
            if "ErrorCode" in res:
                write_line({"error": "%s: %s" % (res["ErrorCode"], res.get("ErrorMessage"))})
            else:
                write_line({"shard": res["ShardId"], "seq": res["SequenceNumber"]})


def list_shards(k, stream):
    shards, resp = [], k.list_shards(StreamName=stream)
    while True:
        shards += resp["Shards"]
        if not resp.get("NextToken"):
            return shards
        resp = k.list_shards(NextToken=resp["NextToken"])


def read_all(k, stream, min_records, timeout):
    """Reads every shard from TRIM_HORIZON; see the module doc."""
    iters = {}
    for s in list_shards(k, stream):
        iters[s["ShardId"]] = k.get_shard_iterator(
            StreamName=stream, ShardId=s["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    out, deadline = [], time.time() + timeout
    while True:
        caught_up = True
        for shard, it in iters.items():
            if it is None:
                continue
            resp = k.get_records(ShardIterator=it)
            out += [out_rec(r, shard) for r in resp["Records"]]
            iters[shard] = resp.get("NextShardIterator")
            if iters[shard] is not None and (resp["Records"] or resp.get("MillisBehindLatest", 0) > 0):
                caught_up = False
        if caught_up and len(out) >= min_records:
            return out
        if time.time() > deadline:
            raise SystemExit("boto3 get: %d records after %ss, want at least %d" % (len(out), timeout, min_records))
        if caught_up:
            time.sleep(0.05)


def get(args):
    for r in read_all(client(args), args.stream, args.min, args.timeout):
        write_line(r)


def split(args):
    k = client(args)
    k.split_shard(StreamName=args.stream, ShardToSplit=args.shard, NewStartingHashKey=args.at)
    wait_active(k, args.stream)


# ---- scenario ----

def short(v, n=300):
    s = repr(v)
    return s if len(s) <= n else s[:n] + "...(%d chars)" % len(s)


class Check:
    def __init__(self):
        self.failures = []

    def eq(self, what, got, want):
        if got != want:
            self.failures.append("%s: got %s, want %s" % (what, short(got), short(want)))

    def true(self, what, cond):
        if not cond:
            self.failures.append(what)

    def error(self, what, code, f, **kw):
        """Calls f(**kw) and checks it fails with the AWS error code."""
        try:
            f(**kw)
        except ClientError as e:
            got = e.response["Error"]["Code"]
            status = e.response["ResponseMetadata"]["HTTPStatusCode"]
            if got != code or status != 400:
                self.failures.append("%s: got %s %s (%s), want 400 %s" % (
                    what, status, got, e.response["Error"].get("Message"), code))
            return e.response["Error"].get("Message", "")
        except botocore.exceptions.ParamValidationError as e:
            self.failures.append("%s: boto3 refused to send it: %s" % (what, e))
            return ""
        self.failures.append("%s: succeeded, want %s" % (what, code))
        return ""


def hash_of(pk):
    return int(hashlib.md5(pk.encode("utf-8")).hexdigest(), 16)


def shard_for(shards, h):
    for s in shards:
        r = s["HashKeyRange"]
        if int(r["StartingHashKey"]) <= h <= int(r["EndingHashKey"]) and "EndingSequenceNumber" not in s["SequenceNumberRange"]:
            return s["ShardId"]
    return None


def read_shard(k, it, limit=None):
    """Reads from an iterator until caught up or the shard's end; returns
    (records, last response)."""
    out, resp = [], None
    for _ in range(1000):
        kw = {"ShardIterator": it}
        if limit:
            kw["Limit"] = limit
        resp = k.get_records(**kw)
        out += resp["Records"]
        it = resp.get("NextShardIterator")
        if it is None or (not resp["Records"] and resp.get("MillisBehindLatest", 0) == 0):
            return out, resp
    raise SystemExit("read_shard: not caught up after 1000 calls")


def wait_active(k, stream):
    k.get_waiter("stream_exists").wait(StreamName=stream, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    st = k.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamStatus"]
    if st != "ACTIVE":
        raise SystemExit("stream_exists waiter returned with status %s" % st)


def scenario(args):
    k, c, s = client(args), Check(), args.stream
    arn = "arn:aws:kinesis:%s:%s:stream/%s" % (args.region, args.account, s)

    # Create: the bridge runs with --kinesis-state-delay, so the stream is
    # CREATING first and the waiter has to poll.
    k.create_stream(StreamName=s, ShardCount=2)
    # CREATING is expected; ACTIVE is tolerated, for a machine so loaded that
    # the delay passed before this call.
    first = k.describe_stream_summary(StreamName=s)["StreamDescriptionSummary"]
    c.true("status right after CreateStream is %s, want CREATING" % first["StreamStatus"],
           first["StreamStatus"] in ("CREATING", "ACTIVE"))
    wait_active(k, s)
    c.error("CreateStream of an existing stream", "ResourceInUseException", k.create_stream, StreamName=s, ShardCount=1)

    summary = k.describe_stream_summary(StreamName=s)["StreamDescriptionSummary"]
    c.eq("summary StreamName", summary["StreamName"], s)
    c.eq("summary StreamARN", summary["StreamARN"], arn)
    c.eq("summary OpenShardCount", summary["OpenShardCount"], 2)
    c.eq("summary RetentionPeriodHours", summary["RetentionPeriodHours"], 24)
    c.eq("summary StreamModeDetails", summary.get("StreamModeDetails"), {"StreamMode": "PROVISIONED"})
    c.eq("summary EncryptionType", summary.get("EncryptionType"), "NONE")
    c.true("summary StreamCreationTimestamp is a datetime", isinstance(summary.get("StreamCreationTimestamp"), datetime.datetime))
    c.true("%s in ListStreams" % s, s in k.list_streams()["StreamNames"])

    shards = list_shards(k, s)
    c.eq("shard ids", [x["ShardId"] for x in shards], ["shardId-000000000000", "shardId-000000000001"])
    c.eq("shard 0 hash range", shards[0]["HashKeyRange"], {"StartingHashKey": "0", "EndingHashKey": str(2**127 - 1)})
    c.eq("shard 1 hash range", shards[1]["HashKeyRange"], {"StartingHashKey": str(2**127), "EndingHashKey": str(MAX_HASH)})
    c.true("open shards have no EndingSequenceNumber", all("EndingSequenceNumber" not in x["SequenceNumberRange"] for x in shards))
    page = k.list_shards(StreamName=s, MaxResults=1)
    c.eq("ListShards MaxResults=1", [x["ShardId"] for x in page["Shards"]], ["shardId-000000000000"])
    c.true("ListShards MaxResults=1 has a NextToken", bool(page.get("NextToken")))
    if page.get("NextToken"):
        c.eq("ListShards second page", [x["ShardId"] for x in k.list_shards(NextToken=page["NextToken"])["Shards"]], ["shardId-000000000001"])

    before = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=5)
    # PutRecord: every byte value, and explicit hash keys at both ends.
    all_bytes = bytes(range(256))
    r0 = k.put_record(StreamName=s, Data=all_bytes, PartitionKey="binary", ExplicitHashKey="0")
    c.eq("PutRecord ExplicitHashKey 0 shard", r0["ShardId"], "shardId-000000000000")
    r1 = k.put_record(StreamName=s, Data=all_bytes[::-1], PartitionKey="binary", ExplicitHashKey=str(MAX_HASH))
    c.eq("PutRecord ExplicitHashKey 2^128-1 shard", r1["ShardId"], "shardId-000000000001")
    c.true("PutRecord SequenceNumber is decimal", r0["SequenceNumber"].isdigit())
    put_recs = [("binary", all_bytes, r0), ("binary", all_bytes[::-1], r1)]

    # PutRecords: partition keys routed by MD5, some explicit hash keys,
    # binary data of varied sizes (empty included).
    entries = []
    for i in range(40):
        e = {"PartitionKey": "pk-%d" % (i % 7), "Data": bytes((i * 37 + j) % 256 for j in range(i * 50))}
        if i % 5 == 0:
            e["ExplicitHashKey"] = str((MAX_HASH // 40) * i)
        entries.append(e)
    resp = k.put_records(StreamName=s, Records=entries)
    c.eq("PutRecords FailedRecordCount", resp["FailedRecordCount"], 0)
    c.eq("PutRecords result count", len(resp["Records"]), len(entries))
    for e, res in zip(entries, resp["Records"]):
        h = int(e["ExplicitHashKey"]) if "ExplicitHashKey" in e else hash_of(e["PartitionKey"])
        c.eq("PutRecords %s shard" % e["PartitionKey"], res.get("ShardId"), shard_for(shards, h))
        put_recs.append((e["PartitionKey"], e["Data"], res))

    # botocore sends timestamps in whole seconds: "after" is the next whole
    # second, waited for (a timestamp in the future is an error).
    after = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=1)).replace(microsecond=0)
    time.sleep(max(0.0, (after - datetime.datetime.now(datetime.timezone.utc)).total_seconds()) + 0.05)

    # Reading back: TRIM_HORIZON on each shard sees exactly what was put,
    # in order, with the sequence numbers the puts returned.
    by_shard = {}
    for pk, data, res in put_recs:
        by_shard.setdefault(res["ShardId"], []).append((pk, data, res["SequenceNumber"]))
    for shard, want in by_shard.items():
        it = k.get_shard_iterator(StreamName=s, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        got, last = read_shard(k, it, limit=7)
        c.eq("records of %s" % shard, [(r["PartitionKey"], r["Data"], r["SequenceNumber"]) for r in got], want)
        c.eq("MillisBehindLatest when caught up on %s" % shard, last.get("MillisBehindLatest"), 0)
        c.true("ApproximateArrivalTimestamp is a datetime",
               all(isinstance(r["ApproximateArrivalTimestamp"], datetime.datetime) for r in got))
        c.true("%s NextShardIterator present on an open shard" % shard, bool(last.get("NextShardIterator")))
        # AT_ and AFTER_SEQUENCE_NUMBER around the third record.
        if len(want) >= 4:
            seq = want[2][2]
            it = k.get_shard_iterator(StreamName=s, ShardId=shard, ShardIteratorType="AT_SEQUENCE_NUMBER",
                                      StartingSequenceNumber=seq)["ShardIterator"]
            c.eq("AT_SEQUENCE_NUMBER first record", k.get_records(ShardIterator=it, Limit=1)["Records"][0]["SequenceNumber"], seq)
            it = k.get_shard_iterator(StreamName=s, ShardId=shard, ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                                      StartingSequenceNumber=seq)["ShardIterator"]
            c.eq("AFTER_SEQUENCE_NUMBER first record", k.get_records(ShardIterator=it, Limit=1)["Records"][0]["SequenceNumber"], want[3][2])
        # AT_TIMESTAMP before the puts reads from the start; one after
        # them reads nothing yet. (One in the future is an error, as in AWS.)
        it = k.get_shard_iterator(StreamName=s, ShardId=shard, ShardIteratorType="AT_TIMESTAMP", Timestamp=before)["ShardIterator"]
        c.eq("AT_TIMESTAMP (before the puts) on %s" % shard, [r["SequenceNumber"] for r in read_shard(k, it)[0]], [w[2] for w in want])
        it = k.get_shard_iterator(StreamName=s, ShardId=shard, ShardIteratorType="AT_TIMESTAMP", Timestamp=after)["ShardIterator"]
        c.eq("AT_TIMESTAMP (after the puts) on %s" % shard, k.get_records(ShardIterator=it)["Records"], [])
    future = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
    c.error("AT_TIMESTAMP in the future", "InvalidArgumentException", k.get_shard_iterator,
            StreamName=s, ShardId="shardId-000000000000", ShardIteratorType="AT_TIMESTAMP", Timestamp=future)

    # LATEST sees only what comes after it.
    it = k.get_shard_iterator(StreamName=s, ShardId="shardId-000000000000", ShardIteratorType="LATEST")["ShardIterator"]
    c.eq("LATEST before a put", k.get_records(ShardIterator=it)["Records"], [])
    it = k.get_shard_iterator(StreamName=s, ShardId="shardId-000000000000", ShardIteratorType="LATEST")["ShardIterator"]
    late = k.put_record(StreamName=s, Data=b"\x00late\xff", PartitionKey="late", ExplicitHashKey="1")
    put_recs.append(("late", b"\x00late\xff", late))
    got = read_shard(k, it)[0]
    c.eq("LATEST after a put", [(r["Data"], r["SequenceNumber"]) for r in got], [(b"\x00late\xff", late["SequenceNumber"])])

    # SplitShard: shard 0 closes, two children cover its range.
    k.split_shard(StreamName=s, ShardToSplit="shardId-000000000000", NewStartingHashKey=str(2**126))
    wait_active(k, s)
    shards = list_shards(k, s)
    ids = {x["ShardId"]: x for x in shards}
    c.eq("shards after split", sorted(ids), ["shardId-00000000000%d" % i for i in range(4)])
    if len(ids) == 4:
        c.true("split parent closed", "EndingSequenceNumber" in ids["shardId-000000000000"]["SequenceNumberRange"])
        c.eq("lower child", (ids["shardId-000000000002"].get("ParentShardId"), ids["shardId-000000000002"]["HashKeyRange"]),
             ("shardId-000000000000", {"StartingHashKey": "0", "EndingHashKey": str(2**126 - 1)}))
        c.eq("upper child", (ids["shardId-000000000003"].get("ParentShardId"), ids["shardId-000000000003"]["HashKeyRange"]),
             ("shardId-000000000000", {"StartingHashKey": str(2**126), "EndingHashKey": str(2**127 - 1)}))
    # Reading the parent to its end: no NextShardIterator, ChildShards set.
    it = k.get_shard_iterator(StreamName=s, ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    got, last = read_shard(k, it)
    c.eq("parent records after the split", len(got), len(by_shard.get("shardId-000000000000", [])) + 1)
    c.eq("NextShardIterator at the parent's end", last.get("NextShardIterator"), None)
    c.eq("ChildShards at the parent's end", sorted(x["ShardId"] for x in last.get("ChildShards", [])),
         ["shardId-000000000002", "shardId-000000000003"])
    after_split = k.put_record(StreamName=s, Data=b"after split", PartitionKey="x", ExplicitHashKey=str(2**126 + 5))
    c.eq("put after split routes to the upper child", after_split["ShardId"], "shardId-000000000003")
    put_recs.append(("x", b"after split", after_split))

    # MergeShards: the children merge back into one shard.
    k.merge_shards(StreamName=s, ShardToMerge="shardId-000000000002", AdjacentShardToMerge="shardId-000000000003")
    wait_active(k, s)
    ids = {x["ShardId"]: x for x in list_shards(k, s)}
    merged = ids.get("shardId-000000000004")
    c.true("merge made shardId-000000000004", merged is not None)
    if merged:
        c.eq("merged parents", (merged.get("ParentShardId"), merged.get("AdjacentParentShardId")),
             ("shardId-000000000002", "shardId-000000000003"))
        c.eq("merged range", merged["HashKeyRange"], {"StartingHashKey": "0", "EndingHashKey": str(2**127 - 1)})
    c.error("MergeShards of shards that are not adjacent", "InvalidArgumentException",
            k.merge_shards, StreamName=s, ShardToMerge="shardId-000000000004", AdjacentShardToMerge="shardId-000000000000")

    # UpdateShardCount: 2 open shards -> 4.
    resp = k.update_shard_count(StreamName=s, TargetShardCount=4, ScalingType="UNIFORM_SCALING")
    c.eq("UpdateShardCount answer", (resp.get("CurrentShardCount"), resp.get("TargetShardCount"), resp.get("StreamName")), (2, 4, s))
    wait_active(k, s)
    summary = k.describe_stream_summary(StreamName=s)["StreamDescriptionSummary"]
    c.eq("OpenShardCount after UpdateShardCount", summary["OpenShardCount"], 4)
    open_shards = [x for x in list_shards(k, s) if "EndingSequenceNumber" not in x["SequenceNumberRange"]]
    c.eq("open shards after UpdateShardCount", len(open_shards), 4)
    # Open shards still cover the hash space exactly once.
    ranges = sorted((int(x["HashKeyRange"]["StartingHashKey"]), int(x["HashKeyRange"]["EndingHashKey"])) for x in open_shards)
    c.true("open shards cover [0, 2^128-1] once: %s" % ranges,
           ranges and ranges[0][0] == 0 and ranges[-1][1] == MAX_HASH and all(a[1] + 1 == b[0] for a, b in zip(ranges, ranges[1:])))
    filtered = k.list_shards(StreamName=s, ShardFilter={"Type": "AT_LATEST"})["Shards"]
    c.eq("ListShards AT_LATEST", sorted(x["ShardId"] for x in filtered), sorted(x["ShardId"] for x in open_shards))

    # Tags.
    k.add_tags_to_stream(StreamName=s, Tags={"team": "bridge", "env": "itest", "empty": ""})
    tags = k.list_tags_for_stream(StreamName=s)
    c.eq("ListTagsForStream", tags["Tags"], [{"Key": "empty", "Value": ""}, {"Key": "env", "Value": "itest"}, {"Key": "team", "Value": "bridge"}])
    c.eq("ListTagsForStream HasMoreTags", tags["HasMoreTags"], False)
    k.remove_tags_from_stream(StreamName=s, TagKeys=["env", "empty"])
    c.eq("tags after RemoveTagsFromStream", k.list_tags_for_stream(StreamName=s)["Tags"], [{"Key": "team", "Value": "bridge"}])
    c.eq("ListTagsForStream Limit=1", k.list_tags_for_stream(StreamName=s, Limit=1)["Tags"], [{"Key": "team", "Value": "bridge"}])

    # Retention.
    k.increase_stream_retention_period(StreamName=s, RetentionPeriodHours=48)
    c.eq("retention after increase", k.describe_stream_summary(StreamName=s)["StreamDescriptionSummary"]["RetentionPeriodHours"], 48)
    c.error("DecreaseStreamRetentionPeriod to above the current", "InvalidArgumentException",
            k.decrease_stream_retention_period, StreamName=s, RetentionPeriodHours=72)
    k.decrease_stream_retention_period(StreamName=s, RetentionPeriodHours=24)
    c.eq("retention after decrease", k.describe_stream_summary(StreamName=s)["StreamDescriptionSummary"]["RetentionPeriodHours"], 24)
    c.error("retention under 24 hours", "InvalidArgumentException",
            k.decrease_stream_retention_period, StreamName=s, RetentionPeriodHours=23)

    # Errors, as botocore ClientError codes. kraw skips botocore's own
    # checks, so the bridge is the one rejecting.
    kraw = client(args, validate=False)
    it = k.get_shard_iterator(StreamName=s, ShardId="shardId-000000000001", ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    c.error("DescribeStreamSummary of a missing stream", "ResourceNotFoundException", k.describe_stream_summary, StreamName=s + "-missing")
    c.error("PutRecord to a missing stream", "ResourceNotFoundException", k.put_record, StreamName=s + "-missing", Data=b"x", PartitionKey="a")
    c.error("GetShardIterator of a missing shard", "ResourceNotFoundException", k.get_shard_iterator,
            StreamName=s, ShardId="shardId-000000000999", ShardIteratorType="TRIM_HORIZON")
    c.error("GetRecords with a made-up iterator", "InvalidArgumentException", k.get_records, ShardIterator="AAAAnotaniterator")
    # The API takes records up to 10 MiB; a stream's own limit (1 MiB
    # unless UpdateMaxRecordSize) is an InvalidArgumentException.
    c.error("PutRecord over 1 MiB", "InvalidArgumentException", kraw.put_record, StreamName=s, Data=b"x" * (1024 * 1024 + 1), PartitionKey="a")
    c.error("PutRecord with a bad ExplicitHashKey", "InvalidArgumentException", k.put_record,
            StreamName=s, Data=b"x", PartitionKey="a", ExplicitHashKey=str(MAX_HASH + 1))
    c.error("PutRecords of 501 records", "ValidationException", kraw.put_records,
            StreamName=s, Records=[{"Data": b"x", "PartitionKey": "a"}] * 501)
    c.error("CreateStream with 0 shards", "ValidationException", kraw.create_stream, StreamName=s + "-zero", ShardCount=0)
    c.error("GetRecords Limit 0", "ValidationException", kraw.get_records, ShardIterator=it, Limit=0)
    c.error("PutRecord with an empty partition key", "ValidationException", kraw.put_record, StreamName=s, Data=b"x", PartitionKey="")
    c.error("AT_SEQUENCE_NUMBER without a sequence number", "InvalidArgumentException", k.get_shard_iterator,
            StreamName=s, ShardId="shardId-000000000001", ShardIteratorType="AT_SEQUENCE_NUMBER")

    # The records of this scenario, for the Go test to read back.
    for pk, data, res in put_recs:
        write_line({"pk": pk, "data": base64.b64encode(data).decode("ascii"), "shard": res["ShardId"], "seq": res["SequenceNumber"]})

    # Delete and its waiter, on a second stream (the first is read back).
    gone = s + "-gone"
    k.create_stream(StreamName=gone, ShardCount=1)
    wait_active(k, gone)
    k.delete_stream(StreamName=gone)
    k.get_waiter("stream_not_exists").wait(StreamName=gone, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    c.true("deleted stream gone from ListStreams", gone not in k.list_streams()["StreamNames"])
    c.error("DeleteStream of a deleted stream", "ResourceNotFoundException", k.delete_stream, StreamName=gone)

    if c.failures:
        sys.stderr.write("boto3 %s scenario: %d failures:\n  %s\n" % (boto3.__version__, len(c.failures), "\n  ".join(c.failures)))
        sys.exit(1)


def main():
    p = argparse.ArgumentParser(description="boto3 %s Kinesis driver" % boto3.__version__)
    p.add_argument("mode", choices=["scenario", "put", "get", "split"])
    p.add_argument("--endpoint", required=True)
    p.add_argument("--stream", required=True)
    p.add_argument("--region", default="")
    p.add_argument("--account", default="")
    p.add_argument("--min", type=int, default=0)
    p.add_argument("--shard", default="")
    p.add_argument("--at", default="", help="split: NewStartingHashKey")
    p.add_argument("--timeout", type=float, default=90.0)
    args = p.parse_args()
    {"scenario": scenario, "put": put, "get": get, "split": split}[args.mode](args)


if __name__ == "__main__":
    main()
