package kinesis

// Large records (kinesis.offload.s3.bucket): a record whose data and
// partition key exceed the offload threshold is written to S3 first, and
// Kinesis gets a pointer record in its place, the way the bridge's own
// Kinesis front end offloads (gateway/kinesis/offload.go) and AWS's
// extended client libraries do: the record's data is the self-identifying
// PayloadS3Pointer JSON of mapping/offload,
//
//	["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"B","s3Key":"K"}]
//
// and its partition key (hence its shard) is the one the record would have
// had. The object is written before the pointer is put, so no pointer in
// the stream names an object that is not there; a Put that fails after the
// object was written leaves the object without a pointer (the records come
// again, with new objects). A bucket that does not exist fails the task
// at Start. Objects are named PREFIX + a random UUID, as
// the extended clients name theirs, never reused, so a pointer always
// names the payload it was put with. The connector does not create the
// bucket, and deletes no object: a reader of the stream owns the payloads
// it fetched.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/connectors/awsconf"
	"github.com/streambridge/bridge/internal/uuid"
	"github.com/streambridge/bridge/mapping/offload"
)

// The offload settings' names.
const (
	OffloadBucketConfig    = "kinesis.offload.s3.bucket"
	OffloadPrefixConfig    = "kinesis.offload.s3.key.prefix"
	OffloadThresholdConfig = "kinesis.offload.threshold.bytes"
)

// maxStreamRecordBytes is the largest record a stream takes after
// UpdateMaxRecordSize (10 MiB).
const maxStreamRecordBytes = 10 << 20

// offloadDef describes the sink's offload settings.
func offloadDef() connect.ConfigDef {
	return connect.ConfigDef{
		{Name: OffloadBucketConfig, Type: connect.ConfigString, Importance: connect.Medium, Group: "Offload",
			Doc:   "The S3 bucket records too large for the stream are written to, with a PayloadS3Pointer record put in their place (the AWS extended clients' format); empty turns offloading off, and such records go to the error handling (errors.tolerance, the dead letter queue). The bucket must exist; it is reached with the connector's AWS settings.",
			Check: checkBucket},
		{Name: OffloadPrefixConfig, Type: connect.ConfigString, Importance: connect.Low, Group: "Offload",
			Doc: "Prefix of the offloaded objects' keys; the key is the prefix and a random UUID.", Check: checkKeyPrefix},
		{Name: OffloadThresholdConfig, Type: connect.ConfigInt, Default: "0", Importance: connect.Low, Group: "Offload",
			Doc:   "A record whose data and partition key exceed this many bytes is offloaded; 0 is the stream's maximum record size (1 MiB unless raised with UpdateMaxRecordSize), so only records Kinesis would refuse are offloaded.",
			Check: connect.Between(0, maxStreamRecordBytes)},
	}
}

// bucketPattern is the shape of S3 bucket names, legacy ones (capitals,
// underscores, made in us-east-1 long ago) included.
var bucketPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{1,61}[A-Za-z0-9]$`)

func checkBucket(v any) error {
	if s := v.(string); s != "" && !bucketPattern.MatchString(s) {
		return fmt.Errorf("must be a bucket name: 3 to 63 letters, digits, . _ -, starting and ending with a letter or digit")
	}
	return nil
}

// maxKeyPrefix leaves room for the UUID in S3's 1024-byte keys.
const maxKeyPrefix = 1024 - 36

func checkKeyPrefix(v any) error {
	if len(v.(string)) > maxKeyPrefix {
		return fmt.Errorf("must be at most %d bytes (S3 keys are at most 1024, with the UUID)", maxKeyPrefix)
	}
	return nil
}

// offloader writes payloads to S3 for the sink.
type offloader struct {
	s3     *awss3.Client
	bucket string
	prefix string
}

// newOffloader returns nil when offloading is off.
func newOffloader(ctx context.Context, vals connect.Values) (*offloader, error) {
	bucket := vals.String(OffloadBucketConfig)
	if bucket == "" {
		return nil, nil
	}
	cfg, err := awsconf.Load(ctx, vals)
	if err != nil {
		return nil, err
	}
	// Path-style on a configured endpoint: the bridge and emulators serve
	// buckets on one host.
	client := awss3.NewFromConfig(cfg, func(o *awss3.Options) { o.UsePathStyle = cfg.BaseEndpoint != nil })
	// A bucket that is not there fails the task now rather than every
	// large record later (S3 may even answer a large PutObject to a
	// missing bucket by resetting the connection, which reads as a passing
	// failure). A refusal to look (HeadBucket needs s3:ListBucket) is not
	// one: PutObject may still be allowed.
	if _, err := client.HeadBucket(ctx, &awss3.HeadBucketInput{Bucket: aws.String(bucket)}); err != nil {
		var notFound *s3types.NotFound
		if errors.As(err, &notFound) || errorCode(err) == "NoSuchBucket" || errorCode(err) == "NotFound" {
			return nil, fmt.Errorf("%s: bucket %s does not exist", OffloadBucketConfig, bucket)
		}
		slog.Warn("kinesis sink: HeadBucket on the offload bucket failed; going on", "bucket", bucket, "err", err)
	}
	return &offloader{s3: client, bucket: bucket, prefix: vals.String(OffloadPrefixConfig)}, nil
}

// put writes data as a new object and returns the pointer record's data.
// A failure that may pass (throttling, S3's own errors, the network) is
// retriable: Put fails and the runtime hands the records again.
func (o *offloader) put(ctx context.Context, data []byte) ([]byte, error) {
	key := o.prefix + uuid.New().String()
	_, err := o.s3.PutObject(ctx, &awss3.PutObjectInput{
		Bucket: aws.String(o.bucket), Key: aws.String(key), Body: bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))), ContentType: aws.String("application/octet-stream")})
	if err != nil {
		err = fmt.Errorf("offloading a %d-byte record to s3://%s/%s: %w", len(data), o.bucket, key, err)
		if ctx.Err() == nil && transient(err) {
			return nil, connect.Retriable(err)
		}
		return nil, err
	}
	return offload.Encode(offload.Pointer{Bucket: o.bucket, Key: key}), nil
}

// streamRecordLimit returns the stream's maximum record size (data and
// partition key): MaxRecordSizeInKiB, or Kinesis's 1 MiB when the endpoint
// does not say (kinesalite, older APIs) or cannot be asked.
func (t *SinkTask) streamRecordLimit(ctx context.Context) int {
	out, err := t.client.DescribeStreamSummary(ctx, &awskinesis.DescribeStreamSummaryInput{StreamName: aws.String(t.stream)})
	if err != nil {
		t.log.Warn("kinesis sink: DescribeStreamSummary failed; taking Kinesis's 1 MiB record limit", "err", err)
		return maxRecordBytes
	}
	if kib := out.StreamDescriptionSummary.MaxRecordSizeInKiB; kib != nil && *kib > 0 {
		return min(int(*kib)<<10, maxStreamRecordBytes)
	}
	return maxRecordBytes
}
