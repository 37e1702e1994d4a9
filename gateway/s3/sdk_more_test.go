package s3

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// onlyReader hides a body's Seek, so the SDK streams it as aws-chunked
// with a checksum trailer (STREAMING-UNSIGNED-PAYLOAD-TRAILER).
type onlyReader struct{ io.Reader }

func mustDo[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func TestSDKTrailerChecksum(t *testing.T) {
	for _, signed := range []bool{false, true} {
		t.Run(fmt.Sprint("signed=", signed), func(t *testing.T) {
			// Over TLS: the SDK sends an unseekable body aws-chunked
			// with a trailer only there.
			s := startTLSServer(t, signed)
			c := s.client(t, false, testSecret)
			ctx := context.Background()
			mustDo[*s3.CreateBucketOutput](t)(c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("trail")}))
			body := bytes.Repeat([]byte("0123456789abcdef"), 70000) // > 1 MiB: several chunks
			for _, alg := range []types.ChecksumAlgorithm{"", types.ChecksumAlgorithmCrc32c, types.ChecksumAlgorithmSha256, types.ChecksumAlgorithmCrc64nvme, types.ChecksumAlgorithmSha1} {
				key := "k-" + string(alg)
				out, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("trail"), Key: aws.String(key), Body: onlyReader{bytes.NewReader(body)},
					ContentLength: aws.Int64(int64(len(body))), ChecksumAlgorithm: alg})
				if err != nil {
					t.Fatalf("%s: %v", alg, err)
				}
				if alg == "" && aws.ToString(out.ChecksumCRC32) == "" {
					t.Errorf("default trailer: no CRC32 in the answer")
				}
				got, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("trail"), Key: aws.String(key)})
				if err != nil {
					t.Fatal(err)
				}
				data, err := io.ReadAll(got.Body) // the SDK checks the checksum as it reads
				got.Body.Close()
				if err != nil || !bytes.Equal(data, body) {
					t.Fatalf("%s: read back %d bytes, %v", alg, len(data), err)
				}
			}
		})
	}
}

func TestSDKMultipart(t *testing.T) {
	s := startServer(t, true)
	c := s.client(t, true, testSecret)
	ctx := context.Background()
	mustDo[*s3.CreateBucketOutput](t)(c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("mpu")}))
	data := make([]byte, 40<<20)
	_, _ = rand.Read(data)
	tm := transfermanager.New(c, func(o *transfermanager.Options) { o.PartSizeBytes = 8 << 20; o.Concurrency = 3 })
	res, err := tm.UploadObject(ctx, &transfermanager.UploadObjectInput{Bucket: aws.String("mpu"), Key: aws.String("big/object"), Body: onlyReader{bytes.NewReader(data)}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(aws.ToString(res.ETag), `-5"`) {
		t.Errorf("ETag %s: want the multipart form, 5 parts", aws.ToString(res.ETag))
	}
	got := mustDo[*s3.GetObjectOutput](t)(c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("mpu"), Key: aws.String("big/object")}))
	back, err := io.ReadAll(got.Body)
	got.Body.Close()
	if err != nil || !bytes.Equal(back, data) {
		t.Fatalf("read back %d bytes, %v", len(back), err)
	}
	rg := mustDo[*s3.GetObjectOutput](t)(c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("mpu"), Key: aws.String("big/object"), Range: aws.String("bytes=-10")}))
	tail, _ := io.ReadAll(rg.Body)
	rg.Body.Close()
	if !bytes.Equal(tail, data[len(data)-10:]) {
		t.Errorf("suffix range: %x", tail)
	}

	// By hand: parts listed, an upload listed, parts out of order, a
	// small part, an abort.
	cm := mustDo[*s3.CreateMultipartUploadOutput](t)(c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String("hand")}))
	id := cm.UploadId
	var parts []types.CompletedPart
	for i, size := range []int{5 << 20, 1000} {
		n := int32(i + 1)
		p := mustDo[*s3.UploadPartOutput](t)(c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("mpu"), Key: aws.String("hand"), UploadId: id, PartNumber: aws.Int32(n),
			Body: bytes.NewReader(data[:size])}))
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(n), ETag: p.ETag})
	}
	cp := mustDo[*s3.UploadPartCopyOutput](t)(c.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String("mpu"), Key: aws.String("hand"), UploadId: id, PartNumber: aws.Int32(3),
		CopySource: aws.String("mpu/big/object"), CopySourceRange: aws.String("bytes=0-99")}))
	if cp.CopyPartResult == nil || aws.ToString(cp.CopyPartResult.ETag) == "" {
		t.Fatalf("UploadPartCopy: %+v", cp)
	}
	lp := mustDo[*s3.ListPartsOutput](t)(c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("mpu"), Key: aws.String("hand"), UploadId: id}))
	if len(lp.Parts) != 3 || aws.ToInt64(lp.Parts[1].Size) != 1000 || aws.ToInt64(lp.Parts[2].Size) != 100 {
		t.Errorf("ListParts: %+v", lp.Parts)
	}
	lu := mustDo[*s3.ListMultipartUploadsOutput](t)(c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("mpu")}))
	if len(lu.Uploads) != 1 || aws.ToString(lu.Uploads[0].UploadId) != aws.ToString(id) {
		t.Errorf("ListMultipartUploads: %+v", lu.Uploads)
	}
	for _, tc := range []struct {
		name  string
		parts []types.CompletedPart
		code  string
	}{
		{"order", []types.CompletedPart{parts[0], parts[0]}, "InvalidPartOrder"},
		{"etag", []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: aws.String(`"00"`)}}, "InvalidPart"},
		{"small", []types.CompletedPart{parts[1], {PartNumber: aws.Int32(3), ETag: cp.CopyPartResult.ETag}}, "EntityTooSmall"},
	} {
		_, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String("hand"), UploadId: id,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: tc.parts}})
		if code(err) != tc.code {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
		}
	}
	mustDo[*s3.CompleteMultipartUploadOutput](t)(c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String("hand"), UploadId: id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}}))
	h := mustDo[*s3.HeadObjectOutput](t)(c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("mpu"), Key: aws.String("hand")}))
	if aws.ToInt64(h.ContentLength) != 5<<20+1000 {
		t.Errorf("completed size %d", aws.ToInt64(h.ContentLength))
	}
	cm = mustDo[*s3.CreateMultipartUploadOutput](t)(c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String("gone")}))
	mustDo[*s3.AbortMultipartUploadOutput](t)(c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String("gone"), UploadId: cm.UploadId}))
	_, err = c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("mpu"), Key: aws.String("gone"), UploadId: cm.UploadId, PartNumber: aws.Int32(1), Body: strings.NewReader("x")})
	if code(err) != "NoSuchUpload" {
		t.Errorf("part of an aborted upload: %v", err)
	}
}

func TestSDKListings(t *testing.T) {
	s := startServer(t, false)
	c := s.client(t, false, testSecret)
	ctx := context.Background()
	mustDo[*s3.CreateBucketOutput](t)(c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("lst")}))
	keys := []string{"a/1", "a/2", "a/b/3", "b", "c/1", "c/2", "d e", "é/x", "z"}
	for _, k := range keys {
		mustDo[*s3.PutObjectOutput](t)(c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("lst"), Key: aws.String(k), Body: strings.NewReader(k)}))
	}
	// Pages of 2 with a delimiter: keys and prefixes together, in order.
	var seen []string
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String("lst"), Delimiter: aws.String("/"), MaxKeys: aws.Int32(2)})
	for p.HasMorePages() {
		page := mustDo[*s3.ListObjectsV2Output](t)(p.NextPage(ctx))
		if n := len(page.Contents) + len(page.CommonPrefixes); n > 2 || int(aws.ToInt32(page.KeyCount)) != n {
			t.Fatalf("page of %d (KeyCount %d)", n, aws.ToInt32(page.KeyCount))
		}
		for _, o := range page.Contents {
			seen = append(seen, aws.ToString(o.Key))
		}
		for _, cp := range page.CommonPrefixes {
			seen = append(seen, aws.ToString(cp.Prefix))
		}
	}
	slices.Sort(seen)
	if want := "a/,b,c/,d e,z,é/"; strings.Join(seen, ",") != want {
		t.Errorf("V2 pages: %v, want %s", seen, want)
	}
	for _, tc := range []struct {
		name string
		in   s3.ListObjectsV2Input
		want string
	}{
		{"prefix", s3.ListObjectsV2Input{Prefix: aws.String("a/")}, "a/1,a/2,a/b/3"},
		{"prefix-delim", s3.ListObjectsV2Input{Prefix: aws.String("a/"), Delimiter: aws.String("/")}, "a/1,a/2,a/b/"},
		{"start-after", s3.ListObjectsV2Input{StartAfter: aws.String("c/1")}, "c/2,d e,z,é/x"},
		{"url", s3.ListObjectsV2Input{Prefix: aws.String("d"), EncodingType: types.EncodingTypeUrl}, "d+e"},
		{"none", s3.ListObjectsV2Input{Prefix: aws.String("q")}, ""},
	} {
		tc.in.Bucket = aws.String("lst")
		out := mustDo[*s3.ListObjectsV2Output](t)(c.ListObjectsV2(ctx, &tc.in))
		var got []string
		for _, o := range out.Contents {
			got = append(got, aws.ToString(o.Key))
		}
		for _, cp := range out.CommonPrefixes {
			got = append(got, aws.ToString(cp.Prefix))
		}
		if strings.Join(got, ",") != tc.want {
			t.Errorf("%s: %v, want %s", tc.name, got, tc.want)
		}
	}
	// v1 with a marker, through its NextMarker.
	var v1 []string
	marker := ""
	for range 10 {
		out := mustDo[*s3.ListObjectsOutput](t)(c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String("lst"), Delimiter: aws.String("/"), MaxKeys: aws.Int32(2), Marker: aws.String(marker)}))
		for _, o := range out.Contents {
			v1 = append(v1, aws.ToString(o.Key))
		}
		for _, cp := range out.CommonPrefixes {
			v1 = append(v1, aws.ToString(cp.Prefix))
		}
		if !aws.ToBool(out.IsTruncated) {
			break
		}
		marker = aws.ToString(out.NextMarker)
	}
	slices.Sort(v1)
	if want := "a/,b,c/,d e,z,é/"; strings.Join(v1, ",") != want {
		t.Errorf("v1 pages: %v, want %s", v1, want)
	}
	if _, err := url.Parse("/"); err != nil {
		t.Fatal(err)
	}
}

func TestSDKBuckets(t *testing.T) {
	s := startServer(t, false)
	c := s.client(t, false, testSecret)
	ctx := context.Background()
	mustDo[*s3.CreateBucketOutput](t)(c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("east")}))
	// Re-creating one's own bucket in us-east-1 succeeds, as in S3.
	mustDo[*s3.CreateBucketOutput](t)(c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("east")}))
	mustDo[*s3.CreateBucketOutput](t)(c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("west"),
		CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraintEuWest1}}))
	_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("west"),
		CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraintEuWest1}})
	var owned *types.BucketAlreadyOwnedByYou
	if !errors.As(err, &owned) {
		t.Errorf("re-create outside us-east-1: %v", err)
	}
	for _, bad := range []string{"ab", "Upper", "a..b", "192.168.1.1", "-dash", "xn--idn", "under_score"} {
		if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bad)}); code(err) != "InvalidBucketName" {
			t.Errorf("bucket %q: %v", bad, err)
		}
	}
	lb := mustDo[*s3.ListBucketsOutput](t)(c.ListBuckets(ctx, &s3.ListBucketsInput{}))
	if len(lb.Buckets) != 2 || aws.ToString(lb.Buckets[0].Name) != "east" || aws.ToString(lb.Buckets[1].BucketRegion) != "eu-west-1" || lb.Owner == nil {
		t.Errorf("ListBuckets: %+v", lb.Buckets)
	}
	loc := mustDo[*s3.GetBucketLocationOutput](t)(c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("west")}))
	if loc.LocationConstraint != types.BucketLocationConstraintEuWest1 {
		t.Errorf("location %q", loc.LocationConstraint)
	}
	loc = mustDo[*s3.GetBucketLocationOutput](t)(c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("east")}))
	if loc.LocationConstraint != "" {
		t.Errorf("us-east-1 location %q, want empty", loc.LocationConstraint)
	}
	if _, err := c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String("east")}); code(err) != "NoSuchTagSet" {
		t.Errorf("no tags: %v", err)
	}
	mustDo[*s3.PutBucketTaggingOutput](t)(c.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String("east"),
		Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("team"), Value: aws.String("data")}}}}))
	bt := mustDo[*s3.GetBucketTaggingOutput](t)(c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String("east")}))
	if len(bt.TagSet) != 1 || aws.ToString(bt.TagSet[0].Value) != "data" {
		t.Errorf("bucket tags %+v", bt.TagSet)
	}
	mustDo[*s3.DeleteBucketTaggingOutput](t)(c.DeleteBucketTagging(ctx, &s3.DeleteBucketTaggingInput{Bucket: aws.String("east")}))

	// Object tags, and a copy that replaces metadata.
	mustDo[*s3.PutObjectOutput](t)(c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("east"), Key: aws.String("o"), Body: strings.NewReader("x"),
		Metadata: map[string]string{"a": "1"}, CacheControl: aws.String("max-age=60")}))
	mustDo[*s3.PutObjectTaggingOutput](t)(c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String("east"), Key: aws.String("o"),
		Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("t1"), Value: aws.String("v1")}, {Key: aws.String("t2"), Value: aws.String("v2")}}}}))
	ot := mustDo[*s3.GetObjectTaggingOutput](t)(c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String("east"), Key: aws.String("o")}))
	if len(ot.TagSet) != 2 {
		t.Errorf("object tags %+v", ot.TagSet)
	}
	mustDo[*s3.DeleteObjectTaggingOutput](t)(c.DeleteObjectTagging(ctx, &s3.DeleteObjectTaggingInput{Bucket: aws.String("east"), Key: aws.String("o")}))
	ot = mustDo[*s3.GetObjectTaggingOutput](t)(c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String("east"), Key: aws.String("o")}))
	if len(ot.TagSet) != 0 {
		t.Errorf("object tags after delete %+v", ot.TagSet)
	}
	mustDo[*s3.CopyObjectOutput](t)(c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("west"), Key: aws.String("copy"), CopySource: aws.String("east/o"),
		MetadataDirective: types.MetadataDirectiveReplace, Metadata: map[string]string{"b": "2"}, ContentType: aws.String("text/x")}))
	h := mustDo[*s3.HeadObjectOutput](t)(c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("west"), Key: aws.String("copy")}))
	if h.Metadata["b"] != "2" || h.Metadata["a"] != "" || aws.ToString(h.ContentType) != "text/x" {
		t.Errorf("copy with REPLACE: %v %s", h.Metadata, aws.ToString(h.ContentType))
	}
	h = mustDo[*s3.HeadObjectOutput](t)(c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("east"), Key: aws.String("o")}))
	if aws.ToString(h.CacheControl) != "max-age=60" || h.Metadata["a"] != "1" {
		t.Errorf("HeadObject: %v %s", h.Metadata, aws.ToString(h.CacheControl))
	}
	_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("east"), Key: aws.String("o"), CopySource: aws.String("east/o")})
	if code(err) != "InvalidRequest" {
		t.Errorf("copy onto itself: %v", err)
	}
	_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("east"), Key: aws.String("o2"), CopySource: aws.String("east/none")})
	if code(err) != "NoSuchKey" {
		t.Errorf("copy of a missing key: %v", err)
	}
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("nobucket"), Key: aws.String("k"), Body: strings.NewReader("x")})
	if code(err) != "NoSuchBucket" {
		t.Errorf("put in a missing bucket: %v", err)
	}
	do := mustDo[*s3.DeleteObjectsOutput](t)(c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("east"),
		Delete: &types.Delete{Quiet: aws.Bool(true), Objects: []types.ObjectIdentifier{{Key: aws.String("o")}, {Key: aws.String("absent")}}}}))
	if len(do.Deleted) != 0 || len(do.Errors) != 0 {
		t.Errorf("quiet DeleteObjects: %+v %+v", do.Deleted, do.Errors)
	}
}
