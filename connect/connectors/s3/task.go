package s3

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/connectors/awsconf"
)

// Task is the S3 sink's task; see the package comment for its invariants.
type Task struct {
	s       *settings
	tc      connect.SinkTaskContext
	up      *uploader
	now     func() time.Time
	writers map[connect.TopicPartition]*partitionWriter
	scratch []byte
}

// Start connects to S3.
func (t *Task) Start(ctx context.Context, tc connect.SinkTaskContext, cfg connect.Config) error {
	s, err := parse(cfg)
	if err != nil {
		return err
	}
	awsCfg, err := awsconf.Load(ctx, s.vals)
	if err != nil {
		return err
	}
	client := awss3.NewFromConfig(awsCfg, func(o *awss3.Options) { o.UsePathStyle = s.vals.Bool(PathStyle) })
	t.s, t.tc = s, tc
	t.up = &uploader{client: client, bucket: s.bucket, partSize: s.partSize}
	if t.now == nil {
		t.now = time.Now
	}
	t.writers = map[connect.TopicPartition]*partitionWriter{}
	return nil
}

// Open finds each partition's newest rotation in the bucket and rewinds the
// partition to its first offset, so it is written again identically.
func (t *Task) Open(ctx context.Context, tps []connect.TopicPartition) error {
	for _, tp := range tps {
		w := newPartitionWriter(tp)
		prefix := topicPrefix(t.s.topicsDir, tp.Topic) + t.s.part.listPrefix(tp.Partition)
		start, found, err := t.up.lastRotationStart(ctx, prefix, tp.Topic, tp.Partition)
		if err != nil {
			return connect.Retriable(err)
		}
		if found {
			t.tc.Rewind(tp, start)
			w.next = start
		}
		t.writers[tp] = w
	}
	return nil
}

// Close drops the partitions' open files: they are written again from the
// committed offsets by whichever task gets the partitions.
func (t *Task) Close(ctx context.Context, tps []connect.TopicPartition) error {
	for _, tp := range tps {
		if w := t.writers[tp]; w != nil {
			for _, f := range w.files {
				t.up.abort(ctx, f)
			}
			delete(t.writers, tp)
		}
	}
	return nil
}

// Stop drops every open file.
func (t *Task) Stop() error {
	if t.writers == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return t.Close(ctx, slices.Collect(maps.Keys(t.writers)))
}

// Put writes records to their partitions' files, finishing rotations as
// their rules say.
func (t *Task) Put(ctx context.Context, recs []connect.Record) error {
	for i := range recs {
		rec := &recs[i]
		tp := connect.TopicPartition{Topic: rec.Topic, Partition: rec.Partition}
		w := t.writers[tp]
		if w == nil {
			w = newPartitionWriter(tp) // the runtime did not Open it: no rewind
			t.writers[tp] = w
		}
		if w.mustRotate {
			if err := t.up.rotate(ctx, w); err != nil {
				return connect.Retriable(err)
			}
		}
		if w.next >= 0 && rec.Offset < w.next {
			continue // written before a rewind
		}
		if err := t.write(ctx, w, rec); err != nil {
			return err
		}
	}
	return t.rotateScheduled(ctx)
}

// write adds one record to w's rotation.
func (t *Task) write(ctx context.Context, w *partitionWriter, rec *connect.Record) error {
	at := t.now()
	if !t.s.wallclock {
		if rec.Timestamp.IsZero() {
			return t.report(ctx, w, rec, errors.New("the record has no timestamp for timestamp.extractor=Record"))
		}
		at = rec.Timestamp
	}
	if rec.Value == nil {
		if t.s.ignoreNull {
			w.next = rec.Offset + 1
			return nil
		}
		return t.report(ctx, w, rec, errors.New("null valued records are not writeable with the current behavior.on.null.values 'fail' setting"))
	}
	data, err := t.s.format.append(t.scratch[:0], rec)
	if err != nil {
		return t.report(ctx, w, rec, err)
	}
	t.scratch = data
	encoded, err := t.s.part.encode(rec, at)
	if err != nil {
		return t.report(ctx, w, rec, err)
	}
	if w.start >= 0 && t.s.rotate > 0 && at.Sub(w.base) >= t.s.rotate {
		if err := t.up.rotate(ctx, w); err != nil {
			return connect.Retriable(err)
		}
	}
	if w.start < 0 {
		w.start, w.base, w.count = rec.Offset, at, 0
		if t.s.schedule > 0 {
			now := t.now()
			w.scheduled = now.Truncate(t.s.schedule).Add(t.s.schedule)
		}
	}
	f := w.files[encoded]
	if f == nil {
		f = &file{key: objectKey(t.s.topicsDir, rec.Topic, encoded, rec.Partition, rec.Offset, t.s.ext), start: rec.Offset}
		if t.s.gzip {
			f.gz = gzip.NewWriter(&f.out)
		}
		w.files[encoded] = f
	}
	f.write(data)
	w.count++
	w.next = rec.Offset + 1
	if w.count >= t.s.flushSize || (t.s.maxBytes > 0 && f.size >= t.s.maxBytes) {
		w.mustRotate = true
		if err := t.up.rotate(ctx, w); err != nil {
			return connect.Retriable(err)
		}
		return nil
	}
	// The record is in the file: a failed part upload is retried with the
	// next write or the rotation.
	if err := t.up.flushParts(ctx, f, w.start); err != nil {
		return connect.Retriable(err)
	}
	return nil
}

// report hands a record that cannot be written to the error handling; when
// tolerated it counts as handled.
func (t *Task) report(ctx context.Context, w *partitionWriter, rec *connect.Record, err error) error {
	if err := t.tc.Report(ctx, *rec, fmt.Errorf("%s: %w", connect.TopicPartition{Topic: rec.Topic, Partition: rec.Partition}, err)); err != nil {
		return err
	}
	w.next = rec.Offset + 1
	return nil
}

// rotateScheduled finishes rotations whose wall-clock time came.
func (t *Task) rotateScheduled(ctx context.Context) error {
	if t.s.schedule <= 0 {
		return nil
	}
	now := t.now()
	for _, w := range t.writers {
		if w.start >= 0 && !now.Before(w.scheduled) {
			if err := t.up.rotate(ctx, w); err != nil {
				return connect.Retriable(err)
			}
		}
	}
	return nil
}

// PreCommit returns, per partition, the offset after the last finished
// rotation (or after what was skipped since), never beyond what it is given.
func (t *Task) PreCommit(ctx context.Context, offsets map[connect.TopicPartition]int64) (map[connect.TopicPartition]int64, error) {
	if err := t.rotateScheduled(ctx); err != nil {
		return nil, err
	}
	out := make(map[connect.TopicPartition]int64, len(offsets))
	for tp, off := range offsets {
		w := t.writers[tp]
		switch {
		case w == nil || w.next < 0:
			out[tp] = off
		case w.start >= 0:
			out[tp] = min(off, w.start)
		default:
			out[tp] = min(off, w.next)
		}
	}
	return out, nil
}
