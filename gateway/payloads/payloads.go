// Package payloads keeps payloads too large for a stream's records as
// objects, the way AWS's extended clients do: the record keeps a pointer
// (mapping/offload's PayloadS3Pointer JSON) as its value and the payload's
// size in an ExtendedPayloadSize header, and the object holds the payload.
// The Kafka, Kinesis and SQS front ends share it: what one offloads, the
// others restore.
//
// Writing: Batch (a producer's Kafka batch) and Records (records a front
// end builds) write the objects, durably, and return the references the
// append must carry (store.AppendOptions.Objects), so the store deletes
// each object with its record and sweeps the objects of appends that never
// happened. The batch that holds pointers is marked
// (recordbatch.Info.Offloaded), so readers look only into those.
//
// Reading: RestoreBatch gives a Kafka consumer the batch as produced;
// PointerOf and Load let Kinesis and SQS decide per record.
//
// Where: a stream's topic configs offload.s3.bucket and
// offload.threshold.bytes, or the server's defaults. A record is offloaded
// when its size (key, value and headers, as the extended clients count a
// message's body and attributes) is strictly greater than the threshold.
// A compressed batch is looked into only when it is itself over the
// threshold: the threshold is about what the store keeps, and a batch
// under it keeps its records inline however well they compressed.
package payloads

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"

	"github.com/streambridge/bridge/internal/uuid"
	"github.com/streambridge/bridge/mapping/offload"
	"github.com/streambridge/bridge/mapping/recordbatch"
	"github.com/streambridge/bridge/store"
)

// Topic configs of the bridge's own that place a stream's payloads.
const (
	ConfigBucket    = "offload.s3.bucket"
	ConfigThreshold = "offload.threshold.bytes"
)

// Defaults: the Kinesis record limit and the largest SQS message, and the
// bucket made on first use.
const (
	DefaultThreshold = 1 << 20
	DefaultBucket    = "streambridge-offload"
)

// SizeHeader is the header of a pointer record that holds the payload's
// size in decimal: the SQS extended clients' message attribute. Records
// the first Java client sent carry LegacySizeHeader instead.
const (
	SizeHeader       = offload.AttrPayloadSize
	LegacySizeHeader = offload.AttrLegacyPayloadSize
)

// MaxPayload bounds what Load reads into memory: the largest record Kafka
// producers can send through the bridge.
const MaxPayload = 1 << 30

// ErrMissing says a pointer names an object that is not there (a client
// deleted it, or it belongs to a record below the log start).
var ErrMissing = errors.New("payloads: offloaded payload is missing")

// ErrMismatch says a pointer names an object that is not the payload its
// record describes: another size than its size header says (the object
// was overwritten through the S3 API, or the pointer was made by a
// client), or larger than MaxPayload.
var ErrMismatch = errors.New("payloads: offloaded payload does not match its pointer")

// Policy says where a stream's large payloads go. Threshold 0 turns
// offloading off.
type Policy struct {
	Bucket    string
	Threshold int64
}

// Offloader writes and reads offloaded payloads. Its zero value and a nil
// one offload nothing and restore nothing.
type Offloader struct {
	objects  store.Objects
	defaults Policy
	log      *slog.Logger

	mu      sync.Mutex
	buckets map[string]bool // buckets known to exist
}

// New returns an Offloader over objects, with the policy of streams that
// set none of their own. A zero defaults.Threshold offloads nothing unless
// a stream asks; an empty Bucket is DefaultBucket.
func New(objects store.Objects, defaults Policy, log *slog.Logger) *Offloader {
	if defaults.Bucket == "" {
		defaults.Bucket = DefaultBucket
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Offloader{objects: objects, defaults: defaults, log: log, buckets: map[string]bool{}}
}

// PolicyOf returns st's policy: its topic configs over the defaults. A
// stream encrypted at rest offloads nothing: objects are not encrypted, so
// its payloads would be written in the clear; its records stay inline,
// encrypted, as they were before offloading existed.
func (o *Offloader) PolicyOf(st *store.Stream) Policy {
	if o == nil || o.objects == nil || st.Encryption.Enabled() {
		return Policy{}
	}
	p := o.defaults
	if b := st.Config[ConfigBucket]; b != "" {
		p.Bucket = b
	}
	if v, ok := st.Config[ConfigThreshold]; ok {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
			p.Threshold = n
		}
	}
	return p
}

// RecordSize is a record's size as the threshold counts it: key, value,
// header names and values.
func RecordSize(r *recordbatch.Record) int64 {
	n := int64(len(r.Key) + len(r.Value))
	for _, h := range r.Headers {
		n += int64(len(h.Key) + len(h.Value))
	}
	return n
}

// Batch offloads the records of a producer's batch that are over st's
// threshold. It returns the batch to append (batch itself when nothing is
// offloaded, a new batch with the pointers and the Offloaded mark
// otherwise, same codec and producer fields) and the references the append
// must carry. On error no object is left behind.
func (o *Offloader) Batch(ctx context.Context, st *store.Stream, partition int32, batch []byte) ([]byte, []store.ObjectRef, error) {
	pol := o.PolicyOf(st)
	if !pol.over(int64(len(batch))) {
		return batch, nil, nil
	}
	info, recs, err := recordbatch.Decode(batch)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", store.ErrInvalidArgument, err)
	}
	refs, err := o.offload(ctx, st.Name, partition, pol, info.BaseOffset, recs)
	if err != nil || len(refs) == 0 {
		return batch, nil, err
	}
	opts := sameBatch(info)
	opts.Codec, opts.Offloaded = info.Codec(), true
	out, err := recordbatch.Encode(nil, recs, opts)
	if err != nil {
		o.Discard(refs)
		return nil, nil, err
	}
	recordbatch.SetPartitionLeaderEpoch(out, info.PartitionLeaderEpoch)
	return out, refs, nil
}

// sameBatch is what a re-encoded batch keeps of the one it replaces: its
// timestamp type and its producer's fields (uncompressed, unmarked).
func sameBatch(info recordbatch.Info) recordbatch.EncodeOptions {
	return recordbatch.EncodeOptions{
		LogAppendTime: info.LogAppendTime(),
		Idempotent:    info.ProducerID >= 0,
		ProducerID:    info.ProducerID,
		ProducerEpoch: info.ProducerEpoch,
		BaseSequence:  info.BaseSequence,
		Transactional: info.Transactional(),
	}
}

// MayOffload reports whether Batch may offload records of batch: whether
// it is over st's threshold. A batch under it is appended as it is.
func (o *Offloader) MayOffload(st *store.Stream, batch []byte) bool {
	return o.PolicyOf(st).over(int64(len(batch)))
}

// over reports whether size is over the threshold, when there is one.
func (p Policy) over(size int64) bool { return p.Threshold > 0 && size > p.Threshold }

// Records offloads the records over st's threshold in place: each keeps a
// pointer as its value and gains a SizeHeader. It returns the references
// for the append, which must mark its batch Offloaded (AppendToShard does
// when it is given references). Offsets are indexes in recs.
func (o *Offloader) Records(ctx context.Context, st *store.Stream, partition int32, recs []recordbatch.Record) ([]store.ObjectRef, error) {
	pol := o.PolicyOf(st)
	over := false
	for i := range recs {
		if pol.over(RecordSize(&recs[i])) {
			over = true
			break
		}
	}
	if !over {
		return nil, nil
	}
	// offload counts deltas from base: index them.
	offsets := make([]int64, len(recs))
	for i := range recs {
		offsets[i], recs[i].Offset = recs[i].Offset, int64(i)
	}
	refs, err := o.offload(ctx, st.Name, partition, pol, 0, recs)
	for i := range recs {
		recs[i].Offset = offsets[i]
	}
	return refs, err
}

func (o *Offloader) offload(ctx context.Context, stream string, partition int32, pol Policy, base int64, recs []recordbatch.Record) ([]store.ObjectRef, error) {
	var refs []store.ObjectRef
	for i := range recs {
		r := &recs[i]
		if !pol.over(RecordSize(r)) {
			continue
		}
		if len(refs) == 0 {
			if err := o.ensureBucket(ctx, pol.Bucket); err != nil {
				return nil, err
			}
		}
		id := uuid.New()
		key := OwnedPrefix(stream, partition) + id.String()
		size := len(r.Value)
		if _, err := o.objects.PutObject(ctx, pol.Bucket, key, bytes.NewReader(r.Value), store.PutOptions{
			Size:        int64(size),
			ContentType: "application/octet-stream",
			// The Kafka batch's CRC vouched for the bytes; an MD5 of
			// them would cost a third of the produce's time.
			ETag: hex.EncodeToString(id[:]),
			// Read once, by a consumer that may come much later.
			Uncached: true,
		}); err != nil {
			o.Discard(refs)
			return nil, fmt.Errorf("offloading a %d-byte record to %s/%s: %w", size, pol.Bucket, key, err)
		}
		refs = append(refs, store.ObjectRef{OffsetDelta: int32(r.Offset - base), Bucket: pol.Bucket, Key: key})
		r.Value = offload.Encode(offload.Pointer{Bucket: pol.Bucket, Key: key})
		r.Headers = append(r.Headers[:len(r.Headers):len(r.Headers)], recordbatch.Header{Key: SizeHeader, Value: strconv.AppendInt(nil, int64(size), 10)})
	}
	return refs, nil
}

// ensureBucket creates bucket unless it is known to exist.
func (o *Offloader) ensureBucket(ctx context.Context, bucket string) error {
	o.mu.Lock()
	known := o.buckets[bucket]
	o.mu.Unlock()
	if known {
		return nil
	}
	if _, err := o.objects.HeadBucket(ctx, bucket); errors.Is(err, store.ErrBucketNotFound) {
		if _, err := o.objects.CreateBucket(ctx, bucket, store.BucketOptions{}); err != nil && !errors.Is(err, store.ErrBucketExists) {
			return fmt.Errorf("creating the offload bucket %s: %w", bucket, err)
		}
		o.log.Info("offload bucket created", "bucket", bucket)
	} else if err != nil {
		return err
	}
	o.mu.Lock()
	o.buckets[bucket] = true
	o.mu.Unlock()
	return nil
}

// Discard deletes the objects of references whose append failed. What it
// cannot delete, the store's sweeper will.
func (o *Offloader) Discard(refs []store.ObjectRef) {
	if o == nil || o.objects == nil {
		return
	}
	for _, r := range refs {
		if err := o.objects.DeleteObject(context.Background(), r.Bucket, r.Key); err != nil {
			o.log.Debug("offload: discarding an unappended payload failed", "bucket", r.Bucket, "key", r.Key, "err", err)
		}
	}
}

// PointerOf reports whether r is a pointer record: a pointer as its value
// and a decimal SizeHeader (or LegacySizeHeader). size is the payload's
// size as the header says it.
func PointerOf(r *recordbatch.Record) (p offload.Pointer, size int64, ok bool) {
	if len(r.Value) > offload.MaxPointerSize {
		return offload.Pointer{}, 0, false
	}
	i := sizeHeader(r)
	if i < 0 {
		return offload.Pointer{}, 0, false
	}
	size, err := strconv.ParseInt(string(r.Headers[i].Value), 10, 64)
	if err != nil || size < 0 {
		return offload.Pointer{}, 0, false
	}
	p, ok = offload.Decode(r.Value)
	return p, size, ok
}

// Marked reports whether a stored batch may hold pointer records: the
// bridge's (Offloaded) or clients' (ClientPointers). Readers look into
// marked batches only.
func Marked(info recordbatch.Info) bool { return info.Offloaded() || info.ClientPointers() }

// Restorable reports whether a pointer record p of a stored batch of a
// stream's partition may be restored, with the bridge's own access to
// every object. In a batch of client pointers, every pointer may: the SQS
// front end marks a message only when its sender may read the object. In
// a batch the bridge offloaded, only the bridge's objects for that
// partition may: a producer's record that merely looks like a pointer,
// sent in the same batch, must not read an object of another bucket.
func Restorable(info recordbatch.Info, stream string, partition int32, p offload.Pointer) bool {
	if info.ClientPointers() {
		return true
	}
	return info.Offloaded() && strings.HasPrefix(p.Key, OwnedPrefix(stream, partition))
}

// OwnedPrefix starts the keys of the objects the bridge offloads for a
// stream's partition.
func OwnedPrefix(stream string, partition int32) string {
	return store.OffloadPrefix + stream + "/" + strconv.Itoa(int(partition)) + "/"
}

// sizeHeader returns the index of r's last size header, or -1.
func sizeHeader(r *recordbatch.Record) int {
	for i := len(r.Headers) - 1; i >= 0; i-- {
		if k := r.Headers[i].Key; k == SizeHeader || k == LegacySizeHeader {
			return i
		}
	}
	return -1
}

// Load reads the payload p names. size, when not negative, is the size the
// pointer record says; an object of another size is refused as corrupt.
// ErrMissing when the object or its bucket is gone, ErrMismatch when it is
// not the size the pointer record says.
func (o *Offloader) Load(ctx context.Context, p offload.Pointer, size int64) ([]byte, error) {
	return o.load(ctx, p, size, nil)
}

// load is Load reading into a buffer from alloc (nil: a new one).
func (o *Offloader) load(ctx context.Context, p offload.Pointer, size int64, alloc func(int) []byte) ([]byte, error) {
	if o == nil || o.objects == nil {
		return nil, fmt.Errorf("%w: no object store", ErrMissing)
	}
	r, err := o.objects.GetObject(ctx, p.Bucket, p.Key, nil)
	if errors.Is(err, store.ErrObjectNotFound) || errors.Is(err, store.ErrBucketNotFound) {
		return nil, fmt.Errorf("%w: %s/%s", ErrMissing, p.Bucket, p.Key)
	}
	if err != nil {
		return nil, err
	}
	defer r.Close()
	n := r.Info().Size
	if size >= 0 && n != size || n > MaxPayload {
		return nil, fmt.Errorf("%w: %s/%s holds %d bytes, its pointer says %d", ErrMismatch, p.Bucket, p.Key, n, size)
	}
	var buf []byte
	if alloc != nil {
		buf = alloc(int(n))
	} else {
		buf = make([]byte, n)
	}
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, fmt.Errorf("payloads: reading %s/%s: %w", p.Bucket, p.Key, err)
	}
	return buf, nil
}

// ObjectSize returns the size of the object p names: ErrMissing when the
// object or its bucket is gone. Front ends use it to vouch for a pointer a
// client made (the size becomes its record's SizeHeader).
func (o *Offloader) ObjectSize(ctx context.Context, p offload.Pointer) (int64, error) {
	if o == nil || o.objects == nil {
		return 0, fmt.Errorf("%w: no object store", ErrMissing)
	}
	info, err := o.objects.HeadObject(ctx, p.Bucket, p.Key)
	if errors.Is(err, store.ErrObjectNotFound) || errors.Is(err, store.ErrBucketNotFound) {
		return 0, fmt.Errorf("%w: %s/%s", ErrMissing, p.Bucket, p.Key)
	}
	if err != nil {
		return 0, err
	}
	return info.Size, nil
}

// Restore puts the payload back into a pointer record: its value becomes
// the payload and its size header goes. It reports whether r was a pointer
// record.
func (o *Offloader) Restore(ctx context.Context, r *recordbatch.Record) (bool, error) {
	return o.restore(ctx, r, RestoreOptions{})
}

func (o *Offloader) restore(ctx context.Context, r *recordbatch.Record, opts RestoreOptions) (bool, error) {
	p, size, ok := PointerOf(r)
	if !ok {
		return false, nil
	}
	var v []byte
	if opts.Ahead != nil {
		v = opts.Ahead(p, size)
	}
	if v == nil {
		var err error
		if v, err = o.load(ctx, p, size, opts.Alloc); err != nil {
			return true, err
		}
	}
	i := sizeHeader(r)
	r.Headers = append(r.Headers[:i:i], r.Headers[i+1:]...)
	if len(r.Headers) == 0 {
		r.Headers = nil
	}
	r.Value = v
	return true, nil
}
