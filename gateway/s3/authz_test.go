package s3

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/streambridge/bridge/security/audit"
	"github.com/streambridge/bridge/security/iampolicy"
)

// TestAuthorization: a key allowed to read one bucket and write under
// one prefix, and everything else denied, in S3's words; the audit log
// gets the denials and the bucket calls.
func TestAuthorization(t *testing.T) {
	pol, err := iampolicy.Parse([]byte(`{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["s3:CreateBucket","s3:ListBucket","s3:GetObject"],"Resource":["arn:aws:s3:::pub","arn:aws:s3:::pub/*"]},
		{"Effect":"Allow","Action":["s3:PutObject","s3:DeleteObject"],"Resource":"arn:aws:s3:::pub/up/*"}]}`), iampolicy.Identity)
	if err != nil {
		t.Fatal(err)
	}
	set := iampolicy.NewSet("000000000000")
	set.AddKey(testKey, "test", pol)
	var log bytes.Buffer
	al := audit.New(&log, nil)
	s := start(t, true, false, func(c *Config) { c.Authorizer, c.Audit = set, al })
	c := s.client(t, false, testSecret)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		call func() error
		code string
	}{
		{"create allowed", func() error {
			_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("pub")})
			return err
		}, ""},
		{"create denied", func() error {
			_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("priv")})
			return err
		}, "AccessDenied"},
		{"put allowed", func() error {
			_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("pub"), Key: aws.String("up/a"), Body: strings.NewReader("x")})
			return err
		}, ""},
		{"put denied", func() error {
			_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("pub"), Key: aws.String("other"), Body: strings.NewReader("x")})
			return err
		}, "AccessDenied"},
		{"get allowed", func() error {
			_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("pub"), Key: aws.String("up/a")})
			return err
		}, ""},
		{"list allowed", func() error {
			_, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("pub")})
			return err
		}, ""},
		{"list buckets denied", func() error { _, err := c.ListBuckets(ctx, &s3.ListBucketsInput{}); return err }, "AccessDenied"},
		{"copy from allowed source to denied key", func() error {
			_, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("pub"), Key: aws.String("copy"), CopySource: aws.String("pub/up/a")})
			return err
		}, "AccessDenied"},
		{"delete bucket denied", func() error {
			_, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("pub")})
			return err
		}, "AccessDenied"},
	} {
		if err := tc.call(); code(err) != tc.code {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.code)
		}
	}
	// DeleteObjects: each key decided alone.
	out, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("pub"), Delete: &types.Delete{Objects: []types.ObjectIdentifier{
		{Key: aws.String("up/a")}, {Key: aws.String("elsewhere")}}}})
	if err != nil || len(out.Deleted) != 1 || len(out.Errors) != 1 || aws.ToString(out.Errors[0].Code) != "AccessDenied" {
		t.Errorf("DeleteObjects: %+v %v", out, err)
	}
	var denied, created int
	for _, line := range strings.Split(strings.TrimSpace(log.String()), "\n") {
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		switch {
		case ev["outcome"] == "denied":
			denied++
		case ev["eventName"] == "CreateBucket":
			created++
		}
	}
	if denied < 6 || created != 1 {
		t.Errorf("audit: %d denials, %d CreateBucket records:\n%s", denied, created, log.String())
	}
}
