package kinesis

// Restoring offloaded payloads (kinesis.resolve.s3.pointers): a record
// whose data is a PayloadS3Pointer, as the Kinesis sink puts for a record
// over its offload threshold (sink_offload.go) or a bridge hands out for a
// payload over 10 MiB, becomes the object's bytes before it is handed to
// the runtime, so a sink-to-source round trip copies large records byte
// for byte.
//
// Only the class form is taken (["software.amazon.payloadoffloading.
// PayloadS3Pointer",{...}]): Kinesis records have no attributes to mark a
// pointer, so the bare object form that SQS messages may carry with a size
// attribute would be too easily a payload of its own. Restoring runs in
// Poll, after the shard's reading state moved past the records: an error
// that does not pass fails the task, whose restart resumes from the stored
// offsets, so no record is skipped.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/connectors/awsconf"
	"github.com/streambridge/bridge/mapping/offload"
)

// ResolvePointersConfig turns restoring on.
const ResolvePointersConfig = "kinesis.resolve.s3.pointers"

// pointerPrefix opens the class form of a pointer.
var pointerPrefix = []byte(`["` + offload.PointerClass + `"`)

// maxRestoreAttempts bounds the reads of one object that fail for a reason
// that may pass (throttling, S3's own errors, the network).
const maxRestoreAttempts = 8

type pointerResolver struct {
	s3  *awss3.Client
	log *slog.Logger
}

func newPointerResolver(ctx context.Context, vals connect.Values, log *slog.Logger) (*pointerResolver, error) {
	cfg, err := awsconf.Load(ctx, vals)
	if err != nil {
		return nil, err
	}
	client := awss3.NewFromConfig(cfg, func(o *awss3.Options) { o.UsePathStyle = cfg.BaseEndpoint != nil })
	return &pointerResolver{s3: client, log: log}, nil
}

// pointerOf returns the pointer a record's data is, if it is one.
func pointerOf(data []byte) (offload.Pointer, bool) {
	if !bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), pointerPrefix) {
		return offload.Pointer{}, false
	}
	return offload.Decode(data)
}

// resolve replaces the pointer records' values by their payloads.
func (r *pointerResolver) resolve(ctx context.Context, recs []connect.Record, stop context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(stop, cancel)()
	for i := range recs {
		data, ok := recs[i].Value.([]byte)
		if !ok {
			continue
		}
		p, ok := pointerOf(data)
		if !ok {
			continue
		}
		payload, err := r.load(ctx, p)
		switch {
		case err == nil:
			recs[i].Value = payload
		case errors.Is(err, errPayloadGone):
			r.log.Warn("kinesis source: a pointer record's object is gone; copied as the pointer it is",
				"shard", recs[i].SourcePartition["shard"], "sequence", sequenceOf(recs[i]), "bucket", p.Bucket, "key", p.Key)
		default:
			return fmt.Errorf("restoring the payload of shard %v sequence %v: %w", recs[i].SourcePartition["shard"], sequenceOf(recs[i]), err)
		}
	}
	return nil
}

var errPayloadGone = errors.New("payload object is gone")

// load reads an object, retrying failures that may pass.
func (r *pointerResolver) load(ctx context.Context, p offload.Pointer) ([]byte, error) {
	wait := minBackoff
	for attempt := 1; ; attempt++ {
		b, err := r.get(ctx, p)
		if err == nil || errors.Is(err, errPayloadGone) || ctx.Err() != nil || !transient(err) || attempt == maxRestoreAttempts {
			return b, err
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil, ctx.Err()
		case <-timer.C:
		}
		wait = min(2*wait, maxBackoff)
	}
}

func (r *pointerResolver) get(ctx context.Context, p offload.Pointer) ([]byte, error) {
	out, err := r.s3.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String(p.Bucket), Key: aws.String(p.Key)})
	if err != nil {
		var noKey *s3types.NoSuchKey
		var noBucket *s3types.NoSuchBucket
		if errors.As(err, &noKey) || errors.As(err, &noBucket) || errorCode(err) == "NoSuchKey" || errorCode(err) == "NoSuchBucket" {
			return nil, fmt.Errorf("s3://%s/%s: %w", p.Bucket, p.Key, errPayloadGone)
		}
		return nil, fmt.Errorf("GetObject s3://%s/%s: %w", p.Bucket, p.Key, err)
	}
	defer out.Body.Close()
	return io.ReadAll(out.Body)
}
