#!/usr/bin/python3
"""boto3 (1.26, Debian's python3-boto3) driver for the itest S3 tests.

  s3_boto3.py scenario --endpoint URL --bucket B

runs every step below on a new bucket B (path-style addressing) and writes
one JSON line per checked step on stdout: {"step": name, "ok": true} or
{"step": name, "error": what}. A failed step does not stop the scenario,
so the same run lists every difference of a server (the Go test runs it
against the bridge, which must pass all, and against gofakes3, whose
differences it reports). The exit status is 0 unless the driver broke.
Credentials and region come from the environment (the test's dummies).
"""

import argparse
import hashlib
import io
import json
import os
import sys

import boto3
import botocore
from boto3.s3.transfer import TransferConfig
from botocore.config import Config


def emit(step, error=None):
    line = {"step": step, "ok": True} if error is None else {"step": step, "error": str(error)}
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()


def step(name):
    def wrap(f):
        try:
            f()
            emit(name)
        except Exception as e:  # every failure is a difference to report
            emit(name, "%s: %s" % (type(e).__name__, e))
        return f
    return wrap


def code_of(e):
    return e.response.get("Error", {}).get("Code"), e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")


def expect_error(f, code, status):
    try:
        f()
    except botocore.exceptions.ClientError as e:
        got = code_of(e)
        if got != (code, status):
            raise AssertionError("want %s %s, got %s %s" % (code, status, got[0], got[1]))
        return
    raise AssertionError("want %s, got success" % code)


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def scenario(s3, bucket):
    @step("create-bucket")
    def _():
        s3.create_bucket(Bucket=bucket)
        s3.head_bucket(Bucket=bucket)
        names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
        check(bucket in names, "list-buckets lacks %s: %s" % (bucket, names))

    body = b"hello, objects" * 100

    @step("put-head-get")
    def _():
        put = s3.put_object(Bucket=bucket, Key="dir/hello.txt", Body=body, ContentType="text/plain",
                            Metadata={"owner": "itest"})
        md5 = '"%s"' % hashlib.md5(body).hexdigest()
        check(put["ETag"] == md5, "put ETag %s, want %s" % (put["ETag"], md5))
        head = s3.head_object(Bucket=bucket, Key="dir/hello.txt")
        check(head["ContentLength"] == len(body), "head length %s" % head["ContentLength"])
        check(head["ContentType"] == "text/plain", "head content type %s" % head["ContentType"])
        check(head["Metadata"] == {"owner": "itest"}, "head metadata %s" % head["Metadata"])
        check(head["ETag"] == md5, "head ETag %s" % head["ETag"])
        got = s3.get_object(Bucket=bucket, Key="dir/hello.txt")["Body"].read()
        check(got == body, "get returned %d bytes, not the object" % len(got))

    @step("get-range")
    def _():
        r = s3.get_object(Bucket=bucket, Key="dir/hello.txt", Range="bytes=2-5")
        check(r["ResponseMetadata"]["HTTPStatusCode"] == 206, "status %s" % r["ResponseMetadata"]["HTTPStatusCode"])
        check(r["ContentRange"] == "bytes 2-5/%d" % len(body), "Content-Range %s" % r["ContentRange"])
        check(r["Body"].read() == body[2:6], "range bytes differ")
        r = s3.get_object(Bucket=bucket, Key="dir/hello.txt", Range="bytes=-4")
        check(r["Body"].read() == body[-4:], "suffix range bytes differ")

    @step("range-not-satisfiable")
    def _():
        expect_error(lambda: s3.get_object(Bucket=bucket, Key="dir/hello.txt", Range="bytes=%d-" % (len(body) + 10)),
                     "InvalidRange", 416)

    @step("no-such-key")
    def _():
        expect_error(lambda: s3.get_object(Bucket=bucket, Key="nope"), "NoSuchKey", 404)

    @step("no-such-bucket")
    def _():
        expect_error(lambda: s3.list_objects_v2(Bucket=bucket + "-none"), "NoSuchBucket", 404)

    @step("list-prefix-delimiter")
    def _():
        for k in ["a/1", "a/2", "b/1", "c"]:
            s3.put_object(Bucket=bucket, Key=k, Body=k.encode())
        r = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
        prefixes = [p["Prefix"] for p in r.get("CommonPrefixes", [])]
        keys = [o["Key"] for o in r.get("Contents", [])]
        check(prefixes == ["a/", "b/", "dir/"], "common prefixes %s" % prefixes)
        check(keys == ["c"], "keys %s" % keys)
        r = s3.list_objects_v2(Bucket=bucket, Prefix="a/")
        check([o["Key"] for o in r["Contents"]] == ["a/1", "a/2"], "prefix a/: %s" % r.get("Contents"))

    @step("list-pages")
    def _():
        keys, token = [], None
        while True:
            kw = {"Bucket": bucket, "MaxKeys": 2}
            if token:
                kw["ContinuationToken"] = token
            r = s3.list_objects_v2(**kw)
            keys += [o["Key"] for o in r.get("Contents", [])]
            if not r.get("IsTruncated"):
                break
            token = r["NextContinuationToken"]
        check(keys == ["a/1", "a/2", "b/1", "c", "dir/hello.txt"], "pages gave %s" % keys)

    @step("copy-object")
    def _():
        s3.copy_object(Bucket=bucket, Key="copy.txt", CopySource={"Bucket": bucket, "Key": "dir/hello.txt"})
        head = s3.head_object(Bucket=bucket, Key="copy.txt")
        check(head["Metadata"] == {"owner": "itest"}, "copy kept metadata %s" % head["Metadata"])
        check(s3.get_object(Bucket=bucket, Key="copy.txt")["Body"].read() == body, "copy differs")

    @step("object-tagging")
    def _():
        s3.put_object_tagging(Bucket=bucket, Key="copy.txt", Tagging={"TagSet": [{"Key": "t", "Value": "v"}]})
        tags = s3.get_object_tagging(Bucket=bucket, Key="copy.txt")["TagSet"]
        check(tags == [{"Key": "t", "Value": "v"}], "tags %s" % tags)

    big = os.urandom(12 << 20)

    @step("multipart-upload")
    def _():
        cfg = TransferConfig(multipart_threshold=5 << 20, multipart_chunksize=5 << 20)
        s3.upload_fileobj(io.BytesIO(big), bucket, "big.bin", Config=cfg)
        head = s3.head_object(Bucket=bucket, Key="big.bin")
        check(head["ContentLength"] == len(big), "length %s" % head["ContentLength"])
        check(head["ETag"].endswith('-3"'), "multipart ETag %s" % head["ETag"])
        out = io.BytesIO()
        s3.download_fileobj(bucket, "big.bin", out, Config=cfg)
        check(hashlib.sha256(out.getvalue()).digest() == hashlib.sha256(big).digest(), "download differs")

    @step("multipart-abort")
    def _():
        up = s3.create_multipart_upload(Bucket=bucket, Key="aborted")
        s3.upload_part(Bucket=bucket, Key="aborted", UploadId=up["UploadId"], PartNumber=1, Body=b"x" * 1024)
        parts = s3.list_parts(Bucket=bucket, Key="aborted", UploadId=up["UploadId"])["Parts"]
        check([p["PartNumber"] for p in parts] == [1], "parts %s" % parts)
        s3.abort_multipart_upload(Bucket=bucket, Key="aborted", UploadId=up["UploadId"])
        expect_error(lambda: s3.list_parts(Bucket=bucket, Key="aborted", UploadId=up["UploadId"]), "NoSuchUpload", 404)

    @step("bucket-not-empty")
    def _():
        expect_error(lambda: s3.delete_bucket(Bucket=bucket), "BucketNotEmpty", 409)

    @step("delete-objects")
    def _():
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
        r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys]})
        check(sorted(d["Key"] for d in r.get("Deleted", [])) == sorted(keys), "deleted %s" % r.get("Deleted"))
        check(s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0, "objects left")

    @step("delete-bucket")
    def _():
        s3.delete_bucket(Bucket=bucket)
        expect_error(lambda: s3.head_bucket(Bucket=bucket), "404", 404)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["scenario"])
    p.add_argument("--endpoint", required=True)
    p.add_argument("--bucket", required=True)
    a = p.parse_args()
    s3 = boto3.client("s3", endpoint_url=a.endpoint,
                      config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
    scenario(s3, a.bucket)


if __name__ == "__main__":
    main()
