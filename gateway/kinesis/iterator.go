package kinesis

// GetShardIterator: a position in a shard to read from with GetRecords.
//
// Iterator types: TRIM_HORIZON (the shard's oldest record still kept),
// LATEST (just after the newest record: only records put afterwards),
// AT_SEQUENCE_NUMBER and AFTER_SEQUENCE_NUMBER (at or just after a record
// of this shard), AT_TIMESTAMP (the first record whose arrival time is at or
// after Timestamp; LATEST when there is none). Closed shards can be read to
// their end.
//
// An iterator is an opaque token: base64 of
//
//	version(1) issued-ms(8) stream-created-ms(8) shard(8) offset(8)
//	name-length(1) stream-name HMAC-SHA256(16, truncated)
//
// authenticated with a key kept in the store's state area, so iterators
// survive a restart and cannot be forged or edited. The stream's creation
// time ties an iterator to one incarnation of the stream: after a stream is
// deleted and created again under its name, old iterators find no shard.
// An iterator older than five minutes gets ExpiredIteratorException;
// anything that does not verify gets InvalidArgumentException "Invalid
// ShardIterator.".
//
// Messages follow AWS (and kinesalite, which copies them). A shard's own
// StartingSequenceNumber is taken by AT_ and AFTER_SEQUENCE_NUMBER even
// while the shard is empty (or closed empty), as AWS takes it: both then
// read from the shard's first record. GetRecords takes an iterator wrapped
// in double quotes, as AWS does (what `aws kinesis get-shard-iterator
// --query ShardIterator` prints without --output text). Differences from
// AWS: another sequence number past the shard's newest record is refused
// as not from this stream (AWS accepts numbers it could have issued);
// ShardId accepts "shardId-000000000001", "1" and "anything-1" alike, as
// AWS does.

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/streambridge/bridge/internal/seal"
	"github.com/streambridge/bridge/mapping"
	"github.com/streambridge/bridge/store"
)

func init() {
	register("GetShardIterator", getShardIterator)
}

// Shard iterator types.
const (
	iterTrimHorizon         = "TRIM_HORIZON"
	iterLatest              = "LATEST"
	iterAtSequenceNumber    = "AT_SEQUENCE_NUMBER"
	iterAfterSequenceNumber = "AFTER_SEQUENCE_NUMBER"
	iterAtTimestamp         = "AT_TIMESTAMP"
)

// iteratorLifetime is how long an iterator can be used after it was issued.
const iteratorLifetime = 5 * time.Minute

type getShardIteratorInput struct {
	streamRef
	ShardId                *string    `json:"ShardId"`
	ShardIteratorType      *string    `json:"ShardIteratorType"`
	StartingSequenceNumber *string    `json:"StartingSequenceNumber,omitempty"`
	Timestamp              *Timestamp `json:"Timestamp,omitempty"`
	DryRun                 *bool      `json:"DryRun,omitempty"`
	StreamId               *string    `json:"StreamId,omitempty"`
}

type getShardIteratorOutput struct {
	ShardIterator string `json:"ShardIterator"`
}

func getShardIterator(ctx context.Context, h *Handler, in *getShardIteratorInput) (*getShardIteratorOutput, error) {
	var v validator
	if v.required("shardId", in.ShardId != nil) {
		v.str("shardId", in.ShardId, 1, 128, shardIDPattern)
	}
	if v.required("shardIteratorType", in.ShardIteratorType != nil) {
		v.oneOf("shardIteratorType", in.ShardIteratorType, iterAfterSequenceNumber, iterLatest, iterAtTimestamp, iterAtSequenceNumber, iterTrimHorizon)
	}
	v.str("startingSequenceNumber", in.StartingSequenceNumber, 0, 0, sequencePattern)
	name := h.requireName(&v, in.streamRef)
	if err := v.err(); err != nil {
		return nil, err
	}
	shardID := *in.ShardId
	index, ok := shardIndexOf(shardID)
	if !ok {
		return nil, resourceNotFound("Could not find shard %s in stream %s under account %s.", shardID, name, h.cfg.Account)
	}
	shardID = mapping.ShardID(index)
	st, err := h.streamForData(ctx, name)
	if err != nil {
		var e *Error
		if errors.As(err, &e) && e.Type == errResourceNotFound {
			return nil, h.shardMissing(shardID, name)
		}
		return nil, err
	}
	sh, ok := st.Shard(index)
	if !ok {
		return nil, h.shardMissing(shardID, name)
	}
	offset, err := h.iteratorStart(ctx, &st, sh, in)
	if err != nil {
		return nil, err
	}
	if in.DryRun != nil && *in.DryRun {
		return nil, dryRun()
	}
	token, err := h.newIterator(ctx, &st, sh.Index, offset)
	if err != nil {
		return nil, err
	}
	return &getShardIteratorOutput{ShardIterator: token}, nil
}

// shardMissing is AWS's message for a shard (or the stream holding it)
// that does not exist.
func (h *Handler) shardMissing(shardID, stream string) *Error {
	return resourceNotFound("Shard %s in stream %s under account %s does not exist", shardID, stream, h.cfg.Account)
}

// shardIndexOf reads a ShardId the way AWS does: the digits after the
// first '-' ("shardId-000000000001"), or the whole value when it has none.
func shardIndexOf(id string) (int, bool) {
	if _, after, ok := strings.Cut(id, "-"); ok {
		id = after
	}
	if id == "" || strings.TrimLeft(id, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n > mapping.MaxShardIndex || n > int64(store.MaxShards) {
		return 0, false
	}
	return int(n), true
}

// iteratorStart returns the offset of sh's partition an iterator of the
// requested type starts at.
func (h *Handler) iteratorStart(ctx context.Context, st *store.Stream, sh store.Shard, in *getShardIteratorInput) (int64, error) {
	typ := *in.ShardIteratorType
	seq := in.StartingSequenceNumber
	switch typ {
	case iterTrimHorizon, iterLatest:
		if seq != nil {
			return 0, invalidArgument("Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified %s and also a StartingSequenceNumber.", typ)
		}
		if typ == iterTrimHorizon {
			return sh.StartOffset, nil
		}
		return h.shardTip(ctx, st, sh)
	case iterAtSequenceNumber, iterAfterSequenceNumber:
		if seq == nil {
			return 0, invalidArgument("Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified %s and no StartingSequenceNumber.", typ)
		}
		return h.sequenceStart(ctx, st, sh, *seq, typ == iterAfterSequenceNumber)
	case iterAtTimestamp:
		if in.Timestamp == nil {
			return 0, invalidArgument("Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has no timestamp parameter.")
		}
		return h.timestampStart(ctx, st, sh, in.Timestamp.Time)
	}
	return 0, invalidArgument("Unknown ShardIteratorType %s", typ)
}

// shardTip is LATEST: the partition's last stable offset (its high
// watermark unless a Kafka transaction is open) for an open shard, the end
// of a closed one.
func (h *Handler) shardTip(ctx context.Context, st *store.Stream, sh store.Shard) (int64, error) {
	if !sh.IsOpen() {
		return sh.EndOffset, nil
	}
	hw, err := h.store.LastStableOffset(ctx, st.Name, sh.Partition)
	if err != nil {
		return 0, h.storeError(st.Name, err)
	}
	if sh, err = h.currentShard(ctx, st.Name, sh); err != nil {
		return 0, h.storeError(st.Name, err)
	}
	if !sh.IsOpen() {
		hw = min(hw, sh.EndOffset)
	}
	return max(hw, sh.StartOffset), nil
}

// sequenceStart is AT_ and AFTER_SEQUENCE_NUMBER.
func (h *Handler) sequenceStart(ctx context.Context, st *store.Stream, sh store.Shard, seq string, after bool) (int64, error) {
	invalid := func(why string) error {
		return invalidArgument("StartingSequenceNumber %s used in GetShardIterator on shard %s in stream %s under account %s is invalid%s.", seq, sh.ID(), st.Name, h.cfg.Account, why)
	}
	index, offset, err := mapping.ParseSequenceNumber(seq)
	if err != nil {
		return 0, invalid("")
	}
	if index != sh.Index {
		return 0, invalidArgument("Invalid StartingSequenceNumber. It encodes %s, while it was used in a call to a shard with %s", mapping.ShardID(index), sh.ID())
	}
	tip, err := h.shardTip(ctx, st, sh)
	if err != nil {
		return 0, err
	}
	start, ok := sequenceStartOffset(sh, offset, tip, after)
	if !ok {
		return 0, invalid(" because it did not come from this stream")
	}
	return start, nil
}

// sequenceStartOffset is where AT_ or AFTER_SEQUENCE_NUMBER start for a
// sequence number encoding offset of shard sh, whose records end before
// tip: at or after that record, or, for the shard's StartingSequenceNumber
// with no record there yet, at the shard's start (the number then names the
// shard's beginning, not a record to skip). ok is false for a number that
// names neither.
func sequenceStartOffset(sh store.Shard, offset, tip int64, after bool) (start int64, ok bool) {
	switch {
	case offset == sh.StartOffset && tip == sh.StartOffset:
		return offset, true
	case offset < sh.StartOffset || offset >= tip:
		return 0, false
	case after:
		return offset + 1, true
	}
	return offset, true
}

// timestampStart is AT_TIMESTAMP: the first record of the shard whose
// timestamp is at or after at, or the shard's tip when there is none.
func (h *Handler) timestampStart(ctx context.Context, st *store.Stream, sh store.Shard, at time.Time) (int64, error) {
	now := h.now()
	if at.After(now) {
		return 0, invalidArgument("The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. timestampInMillis: %d, currentTimestampInMillis: %d", at.UnixMilli(), now.UnixMilli())
	}
	tip, err := h.shardTip(ctx, st, sh)
	if err != nil {
		return 0, err
	}
	offset, _, found, err := h.store.OffsetForTimestamp(ctx, st.Name, sh.Partition, at.UnixMilli())
	if err != nil {
		return 0, h.storeError(st.Name, err)
	}
	if !found {
		return tip, nil
	}
	return min(max(offset, sh.StartOffset), tip), nil
}

// shardIterator is what an iterator token carries.
type shardIterator struct {
	issued        time.Time
	streamCreated int64 // the stream's Created, Unix ms
	stream        string
	shard         int
	offset        int64
}

const (
	iteratorVersion = 1
	iteratorMACSize = seal.MACSize
	// iteratorFixed is the token's fixed part: version, three int64s and
	// the shard, and the name's length byte.
	iteratorFixed = 1 + 8 + 8 + 8 + 8 + 1
)

// Where the iterator signing key lives in the store's state area.
const (
	iteratorKeyNamespace = "kinesis.iterators"
	iteratorKeyName      = "hmac-key"
)

// newIterator returns the token for offset of shard of st, issued now.
func (h *Handler) newIterator(ctx context.Context, st *store.Stream, shard int, offset int64) (string, error) {
	return h.encodeIterator(ctx, shardIterator{
		issued: h.now(), streamCreated: st.Created.UnixMilli(), stream: st.Name, shard: shard, offset: offset,
	})
}

func (h *Handler) encodeIterator(ctx context.Context, it shardIterator) (string, error) {
	b := make([]byte, 0, iteratorFixed+len(it.stream)+iteratorMACSize)
	b = append(b, iteratorVersion)
	b = binary.BigEndian.AppendUint64(b, uint64(it.issued.UnixMilli()))
	b = binary.BigEndian.AppendUint64(b, uint64(it.streamCreated))
	b = binary.BigEndian.AppendUint64(b, uint64(it.shard))
	b = binary.BigEndian.AppendUint64(b, uint64(it.offset))
	b = append(b, byte(len(it.stream)))
	b = append(b, it.stream...)
	b, err := h.dataPlane().iterKey.Seal(ctx, b)
	if err != nil {
		return "", fmt.Errorf("kinesis: iterator key: %w", err)
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

// parseIterator verifies a token and returns what it carries. It does not
// check its age.
func (h *Handler) parseIterator(ctx context.Context, token string) (shardIterator, error) {
	invalid := invalidArgument("Invalid ShardIterator.")
	if n := len(token); n >= 2 && token[0] == '"' && token[n-1] == '"' {
		token = token[1 : n-1]
	}
	b, err := base64.StdEncoding.DecodeString(token)
	if err != nil || len(b) < iteratorFixed+1+iteratorMACSize || b[0] != iteratorVersion {
		return shardIterator{}, invalid
	}
	nameLen := int(b[iteratorFixed-1])
	if len(b) != iteratorFixed+nameLen+iteratorMACSize {
		return shardIterator{}, invalid
	}
	if _, ok, err := h.dataPlane().iterKey.Open(ctx, b); err != nil {
		return shardIterator{}, fmt.Errorf("kinesis: iterator key: %w", err)
	} else if !ok {
		return shardIterator{}, invalid
	}
	be := binary.BigEndian
	it := shardIterator{
		issued:        time.UnixMilli(int64(be.Uint64(b[1:]))),
		streamCreated: int64(be.Uint64(b[9:])),
		shard:         int(be.Uint64(b[17:])),
		offset:        int64(be.Uint64(b[25:])),
		stream:        string(b[iteratorFixed : iteratorFixed+nameLen]),
	}
	if it.shard < 0 || it.offset < 0 {
		return shardIterator{}, invalid
	}
	return it, nil
}

// checkIteratorAge answers ExpiredIteratorException for an iterator issued
// more than five minutes before now.
func (h *Handler) checkIteratorAge(it shardIterator) error {
	now := h.now()
	if now.UnixMilli()-it.issued.UnixMilli() <= iteratorLifetime.Milliseconds() {
		return nil
	}
	const layout = "Mon Jan 02 15:04:05 UTC 2006"
	return newError(errExpiredIterator, "Iterator expired. The iterator was created at time %s while right now it is %s which is further in the future than the tolerated delay of %d milliseconds.",
		it.issued.UTC().Format(layout), now.UTC().Format(layout), iteratorLifetime.Milliseconds())
}
