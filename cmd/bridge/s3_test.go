package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// TestS3Serve: bridge serve, with a credentials file, mounts the S3-style
// API on the AWS port next to the others, over the store's objects: the
// Go SDK's S3 client puts and reads back an object with the right secret
// and is refused with SignatureDoesNotMatch with a wrong one.
func TestS3Serve(t *testing.T) {
	endpoint := startSigV4Bridge(t)
	client := func(secret string) *awss3.Client {
		return awss3.New(awss3.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint), UsePathStyle: true,
			Credentials: credentials.NewStaticCredentialsProvider("AKIDSIGV4TEST", secret, "")})
	}
	ctx := context.Background()
	c := client("sigv4/secret+key")
	if _, err := c.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String("served")}); err != nil {
		t.Fatal(err)
	}
	body := bytes.Repeat([]byte("object "), 1000)
	if _, err := c.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String("served"), Key: aws.String("k"), Body: bytes.NewReader(body)}); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String("served"), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	back, _ := io.ReadAll(got.Body)
	got.Body.Close()
	if !bytes.Equal(back, body) {
		t.Fatalf("read back %d bytes", len(back))
	}
	_, err = client("wrong").ListBuckets(ctx, &awss3.ListBucketsInput{})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "SignatureDoesNotMatch" {
		t.Fatalf("wrong secret: %v", err)
	}
}
