"""One signed call of boto3 against the bridge, for the SigV4 tests.

Usage: sigv4_boto3.py sqs|kinesis --endpoint URL --name NAME
Credentials come from the environment (AWS_ACCESS_KEY_ID, ...), as a user's
would. sqs creates queue NAME and lists queues (the Query protocol in boto3
1.26); kinesis creates stream NAME and lists streams. Writes one JSON line:
{"ok": true} or {"error": CODE, "status": HTTP status}.
"""

import argparse
import json
import sys

import boto3
import botocore.config
import botocore.exceptions


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("service", choices=["sqs", "kinesis"])
    p.add_argument("--endpoint", required=True)
    p.add_argument("--name", required=True)
    a = p.parse_args()
    cfg = botocore.config.Config(retries={"max_attempts": 1})
    client = boto3.client(a.service, endpoint_url=a.endpoint, config=cfg)
    try:
        if a.service == "sqs":
            client.create_queue(QueueName=a.name)
            client.list_queues()
        else:
            client.create_stream(StreamName=a.name, ShardCount=1)
            client.list_streams()
        out = {"ok": True}
    except botocore.exceptions.ClientError as e:
        out = {
            "error": e.response.get("Error", {}).get("Code"),
            "status": e.response.get("ResponseMetadata", {}).get("HTTPStatusCode"),
        }
    sys.stdout.write(json.dumps(out) + "\n")


if __name__ == "__main__":
    main()
