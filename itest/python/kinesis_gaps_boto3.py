#!/usr/bin/python3
"""boto3 driver for the itest Kinesis tests of what AWS added after boto3 1.26
or what the bridge used to get wrong (itest/kinesis_gaps_test.go).

  kinesis_gaps_boto3.py scenario --endpoint URL --stream S --region R --account A
      CreateStream without ShardCount, iterators at the StartingSequenceNumber
      of empty, split and closed-empty shards, a quoted iterator, resource
      policies on a stream and a consumer, account settings, warm throughput
      and the record distribution strategy; checks every answer itself and
      leaves a policy, a committed account, a warm throughput and an AUTO
      stream behind for "durable".
  kinesis_gaps_boto3.py durable --endpoint URL --stream S --region R --account A
      checks that what "scenario" left behind is still there (run after the
      bridge restarted on its data dir).

Debian's boto3 1.26 (botocore 1.29) predates resource policies, account
settings, warm throughput and record distribution strategies: models/ holds
a botocore "sdk-extras" file that adds those operations and members to its
Kinesis model (shapes from botocore 1.43's model; UpdateStreamRecordDistri-
butionStrategy and RecordDistributionStrategy from aws-sdk-go-v2 1.56's,
which also make PartitionKey optional), so requests and answers go through
botocore's own serializers, parsers and error handling. Credentials and
region come from the environment (the test's dummies).
"""

import argparse
import datetime
import json
import os
import sys

# Before boto3 makes a session: botocore reads its data path from here.
os.environ["AWS_DATA_PATH"] = os.path.join(os.path.dirname(os.path.abspath(__file__)), "models")

import boto3  # noqa: E402
from kinesis_boto3 import Check, client, list_shards, read_shard, wait_active  # noqa: E402

POLICY = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Sid": "read", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                   "Action": ["kinesis:GetRecords", "kinesis:GetShardIterator"], "Resource": "*"}],
}, indent=2)
WARM_MIBPS = 64


class Names:
    def __init__(self, args):
        self.od, self.prov, self.split, self.closed, self.auto = (
            args.stream + suffix for suffix in ("-od", "-prov", "-split", "-closed", "-auto"))
        self.arn_prefix = "arn:aws:kinesis:%s:%s:stream/" % (args.region, args.account)

    def arn(self, stream):
        return self.arn_prefix + stream


def shards_by_id(k, stream):
    return {s["ShardId"]: s for s in list_shards(k, stream)}


def iterator_at_start(k, stream, shard, typ):
    return k.get_shard_iterator(StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType=typ,
                                StartingSequenceNumber=shard["SequenceNumberRange"]["StartingSequenceNumber"])["ShardIterator"]


def check_start_iterators(k, c, stream, shard_ids):
    """AT_ and AFTER_SEQUENCE_NUMBER at the StartingSequenceNumber of empty
    open shards read the record put to each shard afterwards."""
    shards = shards_by_id(k, stream)
    for sid in shard_ids:
        s = shards.get(sid)
        if s is None:
            c.failures.append("%s has no shard %s: %s" % (stream, sid, sorted(shards)))
            continue
        its = {typ: iterator_at_start(k, stream, s, typ) for typ in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER")}
        data = ("first of %s" % sid).encode()
        r = k.put_record(StreamName=stream, PartitionKey="k", ExplicitHashKey=s["HashKeyRange"]["StartingHashKey"], Data=data)
        c.eq("put to %s/%s" % (stream, sid), r["ShardId"], sid)
        for typ, it in its.items():
            got = [x["Data"] for x in read_shard(k, it)[0]]
            c.eq("%s %s at its StartingSequenceNumber" % (sid, typ), got[-1:], [data])


def scenario(args):
    k, kraw, c, n = client(args), client(args, validate=False), Check(), Names(args)

    # 1. CreateStream without ShardCount: ON_DEMAND, 4 shards.
    k.create_stream(StreamName=n.od)
    k.create_stream(StreamName=n.prov, ShardCount=1)
    for s in (n.od, n.prov):
        wait_active(k, s)
    summary = k.describe_stream_summary(StreamName=n.od)["StreamDescriptionSummary"]
    c.eq("no ShardCount: mode", summary.get("StreamModeDetails"), {"StreamMode": "ON_DEMAND"})
    c.eq("no ShardCount: open shards", summary["OpenShardCount"], 4)
    summary = k.describe_stream_summary(StreamName=n.prov)["StreamDescriptionSummary"]
    c.eq("ShardCount alone: mode", summary.get("StreamModeDetails"), {"StreamMode": "PROVISIONED"})

    # 2. Iterators at a shard's StartingSequenceNumber while it is empty: new
    # shards, a split's children (the lower one continues a partition that
    # has records), a shard closed empty.
    check_start_iterators(k, c, n.od, ["shardId-00000000000%d" % i for i in range(4)])
    k.create_stream(StreamName=n.split, ShardCount=1)
    k.create_stream(StreamName=n.closed, ShardCount=1)
    for s in (n.split, n.closed):
        wait_active(k, s)
    for i in range(3):
        k.put_record(StreamName=n.split, PartitionKey="k%d" % i, Data=b"before the split")
    for s in (n.split, n.closed):
        k.split_shard(StreamName=s, ShardToSplit="shardId-000000000000", NewStartingHashKey=str(2**127))
        wait_active(k, s)
    check_start_iterators(k, c, n.split, ["shardId-000000000001", "shardId-000000000002"])
    parent = shards_by_id(k, n.closed)["shardId-000000000000"]
    for typ in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
        resp = k.get_records(ShardIterator=iterator_at_start(k, n.closed, parent, typ))
        c.eq("closed empty shard %s: records" % typ, resp["Records"], [])
        c.eq("closed empty shard %s: NextShardIterator" % typ, resp.get("NextShardIterator"), None)
        c.eq("closed empty shard %s: ChildShards" % typ, sorted(x["ShardId"] for x in resp.get("ChildShards", [])),
             ["shardId-000000000001", "shardId-000000000002"])

    # 3. An iterator in double quotes, as the AWS CLI prints one.
    it = k.get_shard_iterator(StreamName=n.split, ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    resp = k.get_records(ShardIterator='"%s"' % it)
    c.eq("quoted iterator: records", [r["Data"] for r in resp["Records"]], [b"before the split"] * 3)
    c.error("iterator with one quote", "InvalidArgumentException", k.get_records, ShardIterator='"' + it)

    # 4. Resource policies on a stream and on a consumer.
    consumer = k.register_stream_consumer(StreamARN=n.arn(n.od), ConsumerName="gaps")["Consumer"]["ConsumerARN"]
    for what, arn in (("stream", n.arn(n.od)), ("consumer", consumer)):
        c.eq("%s policy before" % what, k.get_resource_policy(ResourceARN=arn)["Policy"], "{}")
        msg = c.error("DeleteResourcePolicy of a %s without one" % what, "ResourceNotFoundException",
                      k.delete_resource_policy, ResourceARN=arn)
        c.eq("its message", msg, "No resource policy found for resource ARN %s." % arn)
        k.put_resource_policy(ResourceARN=arn, Policy=POLICY)
        c.eq("%s policy" % what, k.get_resource_policy(ResourceARN=arn)["Policy"], POLICY)
        k.delete_resource_policy(ResourceARN=arn)
        c.eq("%s policy after delete" % what, k.get_resource_policy(ResourceARN=arn)["Policy"], "{}")
        k.put_resource_policy(ResourceARN=arn, Policy=POLICY)  # for "durable"
    c.error("PutResourcePolicy not JSON", "InvalidArgumentException", k.put_resource_policy,
            ResourceARN=n.arn(n.od), Policy="allow everything")
    c.error("GetResourcePolicy of a missing stream", "ResourceNotFoundException", k.get_resource_policy,
            ResourceARN=n.arn(n.od + "-missing"))
    c.error("GetResourcePolicy of a missing consumer", "ResourceNotFoundException", k.get_resource_policy,
            ResourceARN=n.arn(n.od) + "/consumer/missing:1700000000")
    c.error("PutResourcePolicy over 20 KiB", "InvalidArgumentException", k.put_resource_policy,
            ResourceARN=n.arn(n.od), Policy=json.dumps({"Statement": "x" * 20480}))

    # 5. Account settings, warm throughput, record distribution strategy.
    k.update_account_settings(MinimumThroughputBillingCommitment={"Status": "ENABLED"})
    mt = k.describe_account_settings()["MinimumThroughputBillingCommitment"]
    c.eq("commitment status", mt["Status"], "ENABLED")
    c.true("commitment StartedAt and EarliestAllowedEndAt are a day apart: %s" % mt,
           isinstance(mt.get("StartedAt"), datetime.datetime) and
           mt.get("EarliestAllowedEndAt") - mt["StartedAt"] == datetime.timedelta(days=1))
    c.error("UpdateAccountSettings with a bad status", "ValidationException", kraw.update_account_settings,
            MinimumThroughputBillingCommitment={"Status": "SOMETIMES"})

    resp = k.update_stream_warm_throughput(StreamARN=n.arn(n.od), WarmThroughputMiBps=WARM_MIBPS)
    c.eq("UpdateStreamWarmThroughput answer", (resp["StreamName"], resp["StreamARN"], resp["WarmThroughput"].get("TargetMiBps")),
         (n.od, n.arn(n.od), WARM_MIBPS))
    summary = k.describe_stream_summary(StreamName=n.od)["StreamDescriptionSummary"]
    c.eq("summary WarmThroughput", summary.get("WarmThroughput"), {"TargetMiBps": WARM_MIBPS, "CurrentMiBps": WARM_MIBPS})
    c.error("warm throughput on a provisioned stream", "InvalidArgumentException", k.update_stream_warm_throughput,
            StreamName=n.prov, WarmThroughputMiBps=8)
    c.error("warm throughput over 10 GiB/s", "LimitExceededException", k.update_stream_warm_throughput,
            StreamName=n.od, WarmThroughputMiBps=10241)

    k.create_stream(StreamName=n.auto, RecordDistributionStrategy="AUTO")
    wait_active(k, n.auto)
    c.eq("AUTO stream summary", k.describe_stream_summary(StreamName=n.auto)["StreamDescriptionSummary"].get("RecordDistributionStrategy"), "AUTO")
    same_key = [{"PartitionKey": "same", "Data": bytes([i % 256])} for i in range(200)]
    resp = k.put_records(StreamName=n.auto, Records=same_key)
    c.eq("AUTO PutRecords failures", resp["FailedRecordCount"], 0)
    c.eq("AUTO spreads one key over the shards", len({r["ShardId"] for r in resp["Records"]}), 4)
    keyless = k.put_record(StreamName=n.auto, Data=b"no partition key")
    got = [r["Data"] for r in read_shard(k, k.get_shard_iterator(
        StreamName=n.auto, ShardId=keyless["ShardId"], ShardIteratorType="AT_SEQUENCE_NUMBER",
        StartingSequenceNumber=keyless["SequenceNumber"])["ShardIterator"])[0]]
    c.eq("record put without a partition key", got[:1], [b"no partition key"])
    k.update_stream_record_distribution_strategy(StreamARN=n.arn(n.auto), RecordDistributionStrategy="USER_PARTITION_KEY")
    resp = k.put_records(StreamName=n.auto, Records=same_key)
    c.eq("USER_PARTITION_KEY keeps one key on one shard", len({r["ShardId"] for r in resp["Records"]}), 1)
    c.error("PutRecord without a partition key, USER_PARTITION_KEY", "ValidationException", k.put_record,
            StreamName=n.auto, Data=b"x")
    k.update_stream_record_distribution_strategy(StreamARN=n.arn(n.auto), RecordDistributionStrategy="AUTO")
    c.error("AUTO on a provisioned stream", "InvalidArgumentException", k.update_stream_record_distribution_strategy,
            StreamARN=n.arn(n.prov), RecordDistributionStrategy="AUTO")

    finish(c, "scenario")


def durable(args):
    k, c, n = client(args), Check(), Names(args)
    consumer = k.describe_stream_consumer(StreamARN=n.arn(n.od), ConsumerName="gaps")["ConsumerDescription"]["ConsumerARN"]
    for what, arn in (("stream", n.arn(n.od)), ("consumer", consumer)):
        c.eq("%s policy after the restart" % what, k.get_resource_policy(ResourceARN=arn)["Policy"], POLICY)
    c.eq("commitment after the restart", k.describe_account_settings()["MinimumThroughputBillingCommitment"]["Status"], "ENABLED")
    summary = k.describe_stream_summary(StreamName=n.od)["StreamDescriptionSummary"]
    c.eq("warm throughput after the restart", summary.get("WarmThroughput"), {"TargetMiBps": WARM_MIBPS, "CurrentMiBps": WARM_MIBPS})
    summary = k.describe_stream_summary(StreamName=n.auto)["StreamDescriptionSummary"]
    c.eq("strategy after the restart", summary.get("RecordDistributionStrategy"), "AUTO")
    finish(c, "durable")


def finish(c, mode):
    if c.failures:
        sys.stderr.write("boto3 %s gaps %s: %d failures:\n  %s\n" % (boto3.__version__, mode, len(c.failures), "\n  ".join(c.failures)))
        sys.exit(1)


def main():
    p = argparse.ArgumentParser(description="boto3 %s Kinesis gaps driver" % boto3.__version__)
    p.add_argument("mode", choices=["scenario", "durable"])
    p.add_argument("--endpoint", required=True)
    p.add_argument("--stream", required=True, help="prefix of the streams made")
    p.add_argument("--region", required=True)
    p.add_argument("--account", required=True)
    args = p.parse_args()
    {"scenario": scenario, "durable": durable}[args.mode](args)


if __name__ == "__main__":
    main()
