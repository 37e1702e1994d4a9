package s3floor

import (
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/streambridge/bridge/bench/s3bench"
)

// TestBench runs the load generator against the floor: it must serve the
// bench whole (sizes that are not a multiple of its buffer included), or
// its figures would be of a run that failed.
func TestBench(t *testing.T) {
	srv := httptest.NewServer(&Handler{})
	defer srv.Close()
	for _, size := range []int{0, 1000, zerosSize + 3} {
		res, err := s3bench.Run(t.Context(), s3bench.Config{Endpoint: srv.URL, Bucket: "floor", ObjectSize: size, Objects: 10, Concurrency: 2})
		if err != nil {
			t.Fatalf("%d-byte objects: %v", size, err)
		}
		for _, p := range res.Phases {
			if p.Objects != 10 || p.Bytes != int64(10*size) {
				t.Errorf("%d-byte objects, phase %s: %d objects, %d bytes", size, p.Name, p.Objects, p.Bytes)
			}
		}
	}
}

func TestMissing(t *testing.T) {
	srv := httptest.NewServer(&Handler{})
	defer srv.Close()
	cl := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", ""), Retryer: aws.NopRetryer{}})
	if _, err := cl.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String("b")}); err != nil {
		t.Fatal(err)
	}
	_, err := cl.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String("b"), Key: aws.String("none")})
	if nsk := (*types.NoSuchKey)(nil); !errors.As(err, &nsk) {
		t.Errorf("GetObject of a missing key: %v, want NoSuchKey", err)
	}
}
