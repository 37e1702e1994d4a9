"""Calls of boto3 against a bridge that enforces IAM policies, for the IAM
tests.

Usage: iam_boto3.py --endpoint URL --queue NAME --stream NAME
Credentials come from the environment (AWS_ACCESS_KEY_ID, ...). Sends one
message to queue NAME (SQS over the Query protocol in boto3 1.26) and puts
one record on stream NAME. Writes one JSON line with each call's outcome:
{"sqs": {"ok": true} or {"error": CODE, "status": HTTP status, "message": ...},
 "kinesis": the same}.
"""

import argparse
import json
import sys

import boto3
import botocore.config
import botocore.exceptions


def outcome(call):
    try:
        call()
        return {"ok": True}
    except botocore.exceptions.ClientError as e:
        err = e.response.get("Error", {})
        return {
            "error": err.get("Code"),
            "status": e.response.get("ResponseMetadata", {}).get("HTTPStatusCode"),
            "message": err.get("Message"),
        }


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--endpoint", required=True)
    p.add_argument("--queue", required=True)
    p.add_argument("--stream", required=True)
    a = p.parse_args()
    cfg = botocore.config.Config(retries={"max_attempts": 1})
    sqs = boto3.client("sqs", endpoint_url=a.endpoint, config=cfg)
    kinesis = boto3.client("kinesis", endpoint_url=a.endpoint, config=cfg)
    url = a.endpoint + "/000000000000/" + a.queue
    out = {
        "sqs": outcome(lambda: sqs.send_message(QueueUrl=url, MessageBody="from boto3")),
        "kinesis": outcome(lambda: kinesis.put_record(StreamName=a.stream, Data=b"x", PartitionKey="k")),
    }
    sys.stdout.write(json.dumps(out) + "\n")


if __name__ == "__main__":
    main()
