package kinesis

// PutRecord and PutRecords: records into a stream's shards.
//
// A record goes to the open shard whose hash key range holds its hash key:
// MD5 of the partition key, or the ExplicitHashKey when given. It is
// stored as a Kafka record with key = the partition key, value = the data,
// no headers, and the arrival time as a log-append timestamp, so Kafka
// consumers see key = partition key. A KPL aggregated record is stored as
// its user records (aggregation.go). A record over the stream's offload
// threshold is stored as a pointer to an object holding its data
// (offload.go).
//
// PutRecords appends the records bound for one shard as ONE batch (one
// AppendToShard per shard, the shards concurrently), so a PutRecords of
// 500 records costs one durable write per shard, and the records of a
// shard keep their request order. The answer lists results in request
// order with FailedRecordCount. A shard that closed under the request
// (a reshard raced) makes its records route again.
//
// Validation follows AWS: member constraints (a missing or empty partition
// key, data over 10 MiB, a malformed ExplicitHashKey) are a
// ValidationException for the whole request, naming the member as
// 'records.N.member.partitionKey'; an ExplicitHashKey above 2^128-1 and a
// request over 10 MiB ("Records size exceeds 10 MB limit") are an
// InvalidArgumentException. Per-record failures in a PutRecords answer are
// only ProvisionedThroughputExceededException (limits.go) and
// InternalFailure, as AWS documents.
//
// Differences from AWS: a record whose data and partition key together
// exceed the stream's maximum record size (1 MiB unless raised by
// UpdateMaxRecordSize), with data alone within the API's 10 MiB, gets an
// InvalidArgumentException naming the limit; AWS's wording for this case
// is not documented. SequenceNumberForOrdering is checked for form and
// otherwise needs nothing: records of a shard are in arrival order anyway.
// DryRun validates the request and answers DryRunOperationException.
// A stream using the AUTO record distribution strategy (capacity.go) takes
// records without a partition key and spreads all its records evenly.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/streambridge/bridge/mapping"
	"github.com/streambridge/bridge/mapping/recordbatch"
	"github.com/streambridge/bridge/store"
)

func init() {
	register("PutRecord", putRecord)
	register("PutRecords", putRecords)
}

// Request limits of the data plane.
const (
	// maxDataBytes is the API's limit on one record's Data member.
	maxDataBytes = 10 << 20
	// defaultMaxRecordBytes is a stream's record limit (data and partition
	// key) unless UpdateMaxRecordSize raised it.
	defaultMaxRecordBytes = 1 << 20
	// maxPutRecordsBytes bounds a PutRecords request's data and keys.
	maxPutRecordsBytes = 10 << 20
	maxPutRecordsCount = 500
	// maxValidationErrors is where AWS stops listing violations.
	maxValidationErrors = 10
	// maxRouteAttempts bounds re-routing when reshards keep closing the
	// shard a record was routed to.
	maxRouteAttempts = 8
)

// errDryRun is the type AWS answers a DryRun request with.
const errDryRun = "DryRunOperationException"

type putRecordInput struct {
	streamRef
	Data                      []byte  `json:"Data"`
	PartitionKey              *string `json:"PartitionKey"`
	ExplicitHashKey           *string `json:"ExplicitHashKey,omitempty"`
	SequenceNumberForOrdering *string `json:"SequenceNumberForOrdering,omitempty"`
	DryRun                    *bool   `json:"DryRun,omitempty"`
	StreamId                  *string `json:"StreamId,omitempty"`
}

type putRecordOutput struct {
	ShardId        string `json:"ShardId"`
	SequenceNumber string `json:"SequenceNumber"`
	EncryptionType string `json:"EncryptionType,omitempty"`
}

type putRecordsEntry struct {
	Data            []byte  `json:"Data"`
	PartitionKey    *string `json:"PartitionKey"`
	ExplicitHashKey *string `json:"ExplicitHashKey,omitempty"`
}

type putRecordsInput struct {
	streamRef
	Records  []putRecordsEntry `json:"Records"`
	DryRun   *bool             `json:"DryRun,omitempty"`
	StreamId *string           `json:"StreamId,omitempty"`
}

type putRecordsResult struct {
	SequenceNumber string `json:"SequenceNumber,omitempty"`
	ShardId        string `json:"ShardId,omitempty"`
	ErrorCode      string `json:"ErrorCode,omitempty"`
	ErrorMessage   string `json:"ErrorMessage,omitempty"`
}

type putRecordsOutput struct {
	FailedRecordCount int                `json:"FailedRecordCount"`
	Records           []putRecordsResult `json:"Records"`
	EncryptionType    string             `json:"EncryptionType,omitempty"`
}

func putRecord(ctx context.Context, h *Handler, in *putRecordInput) (*putRecordOutput, error) {
	var v validator
	v.str("sequenceNumberForOrdering", in.SequenceNumberForOrdering, 0, 0, sequencePattern)
	keyOptional := in.PartitionKey == nil && h.autoStream(ctx, in.streamRef)
	if !keyOptional && v.required("partitionKey", in.PartitionKey != nil) {
		v.str("partitionKey", in.PartitionKey, 1, mapping.MaxPartitionKeyLength, nil)
	}
	v.str("explicitHashKey", in.ExplicitHashKey, 0, 0, hashKeyPattern)
	checkData(&v, "data", in.Data)
	name := h.requireName(&v, in.streamRef)
	if err := v.err(); err != nil {
		return nil, err
	}
	entry := putEntry{data: in.Data, partitionKey: optionalKey(in.PartitionKey)}
	if err := h.resolveHashKey(&entry, in.ExplicitHashKey); err != nil {
		return nil, err
	}
	if s := in.SequenceNumberForOrdering; s != nil {
		if _, _, err := mapping.ParseSequenceNumber(*s); err != nil {
			return nil, invalidArgument("ExclusiveMinimumSequenceNumber %s used in PutRecord on stream %s under account %s is invalid.", *s, name, h.cfg.Account)
		}
	}
	st, err := h.streamForData(ctx, name)
	if err != nil {
		return nil, err
	}
	if err := h.checkRecordSize(&st, -1, &entry); err != nil {
		return nil, err
	}
	if in.DryRun != nil && *in.DryRun {
		return nil, dryRun()
	}
	entries := []putEntry{entry}
	spreadEntries(&st, entries)
	if err := h.appendEntries(ctx, &st, entries); err != nil {
		return nil, err
	}
	e := &entries[0]
	if e.errCode != "" {
		return nil, newError(e.errCode, "%s", e.errMessage)
	}
	return &putRecordOutput{ShardId: mapping.ShardID(e.shard), SequenceNumber: e.sequenceNumber, EncryptionType: encryptionOf(&st)}, nil
}

func putRecords(ctx context.Context, h *Handler, in *putRecordsInput) (*putRecordsOutput, error) {
	var v validator
	keysOptional := false
	for i := range in.Records {
		if in.Records[i].PartitionKey == nil {
			keysOptional = h.autoStream(ctx, in.streamRef)
			break
		}
	}
	if v.required("records", in.Records != nil) {
		if n := len(in.Records); n < 1 || n > maxPutRecordsCount {
			constraint := "have length greater than or equal to 1"
			if n > maxPutRecordsCount {
				constraint = fmt.Sprintf("have length less than or equal to %d", maxPutRecordsCount)
			}
			v.fail("records", recordsListValue(n), constraint)
		}
		for i := range in.Records {
			if len(v.violations) >= maxValidationErrors {
				break
			}
			r := &in.Records[i]
			field := "records." + strconv.Itoa(i+1) + ".member."
			if !keysOptional && v.required(field+"partitionKey", r.PartitionKey != nil) {
				v.str(field+"partitionKey", r.PartitionKey, 1, mapping.MaxPartitionKeyLength, nil)
			}
			v.str(field+"explicitHashKey", r.ExplicitHashKey, 0, 0, hashKeyPattern)
			checkData(&v, field+"data", r.Data)
		}
	}
	if len(v.violations) > maxValidationErrors {
		v.violations = v.violations[:maxValidationErrors]
	}
	name := h.requireName(&v, in.streamRef)
	if err := v.err(); err != nil {
		return nil, err
	}
	entries := make([]putEntry, len(in.Records))
	total := 0
	for i := range in.Records {
		r := &in.Records[i]
		entries[i] = putEntry{data: r.Data, partitionKey: optionalKey(r.PartitionKey)}
		if err := h.resolveHashKey(&entries[i], r.ExplicitHashKey); err != nil {
			return nil, err
		}
		total += entries[i].size()
	}
	if total > maxPutRecordsBytes {
		return nil, invalidArgument("Records size exceeds %d MB limit", maxPutRecordsBytes>>20)
	}
	st, err := h.streamForData(ctx, name)
	if err != nil {
		return nil, err
	}
	for i := range entries {
		if err := h.checkRecordSize(&st, i, &entries[i]); err != nil {
			return nil, err
		}
	}
	if in.DryRun != nil && *in.DryRun {
		return nil, dryRun()
	}
	spreadEntries(&st, entries)
	if err := h.appendEntries(ctx, &st, entries); err != nil {
		return nil, err
	}
	out := &putRecordsOutput{Records: make([]putRecordsResult, len(entries)), EncryptionType: encryptionOf(&st)}
	for i := range entries {
		e := &entries[i]
		if e.errCode != "" {
			out.FailedRecordCount++
			out.Records[i] = putRecordsResult{ErrorCode: e.errCode, ErrorMessage: e.errMessage}
			continue
		}
		out.Records[i] = putRecordsResult{ShardId: mapping.ShardID(e.shard), SequenceNumber: e.sequenceNumber}
	}
	return out, nil
}

// putEntry is one request record on its way to a shard, and its outcome.
type putEntry struct {
	data         []byte
	partitionKey string
	hashKey      mapping.HashKey

	// Outcome: the shard and sequence number of the (first) stored record,
	// or an error code and message for this record.
	shard          int
	sequenceNumber string
	errCode        string
	errMessage     string
}

func (e *putEntry) size() int { return len(e.data) + len(e.partitionKey) }

// checkData checks a Data member against the API's constraints, printing
// the value as AWS does (a Java ByteBuffer).
func checkData(v *validator, field string, data []byte) {
	if !v.required(field, data != nil) {
		return
	}
	if len(data) > maxDataBytes {
		v.fail(field, fmt.Sprintf("java.nio.HeapByteBuffer[pos=0 lim=%d cap=%d]", len(data), len(data)),
			fmt.Sprintf("have length less than or equal to %d", maxDataBytes))
	}
}

// recordsListValue prints a Records list the way AWS prints a list of
// structures in a validation message.
func recordsListValue(n int) string {
	const member = "com.amazonaws.kinesis.v20131202.PutRecordsRequestEntry@c965e310"
	return "[" + strings.TrimSuffix(strings.Repeat(member+", ", n), ", ") + "]"
}

// resolveHashKey sets e.hashKey from the explicit hash key (already checked
// for form) or the partition key's MD5.
func (h *Handler) resolveHashKey(e *putEntry, explicit *string) error {
	if explicit == nil {
		e.hashKey = mapping.HashPartitionKey(e.partitionKey)
		return nil
	}
	k, err := mapping.ParseHashKey(*explicit)
	if err != nil {
		return invalidArgument("Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was %s", *explicit)
	}
	e.hashKey = k
	return nil
}

// checkRecordSize refuses a record over the stream's record limit; index is
// the record's place in a PutRecords request, -1 for PutRecord.
func (h *Handler) checkRecordSize(st *store.Stream, index int, e *putEntry) error {
	limit := h.maxRecordBytes(*st)
	if e.size() <= limit {
		return nil
	}
	where := ""
	if index >= 0 {
		where = fmt.Sprintf(" at records.%d", index+1)
	}
	return invalidArgument("Record size of %d bytes (data and partition key)%s exceeds the maximum record size of %d KiB of stream %s under account %s.",
		e.size(), where, limit>>10, st.Name, h.cfg.Account)
}

func encryptionOf(st *store.Stream) string {
	if st.Encryption.Enabled() {
		return "KMS"
	}
	return ""
}

func dryRun() *Error {
	return newError(errDryRun, "Request would have succeeded, but DryRun flag is set.")
}

// shardGroup is the entries bound for one shard, appended as one batch.
type shardGroup struct {
	shard     int
	partition int32 // the shard's partition, which names offloaded objects
	entries   []int // indexes into the request's entries, in request order
}

// appendEntries routes entries to their shards and appends each shard's
// share as one batch, the shards concurrently, setting every entry's
// outcome. It fails as a whole only when the stream went away.
func (h *Handler) appendEntries(ctx context.Context, st *store.Stream, entries []putEntry) error {
	pending := make([]int, len(entries))
	for i := range pending {
		pending[i] = i
	}
	for attempt := 0; len(pending) > 0; attempt++ {
		groups, err := h.route(ctx, st.Name, entries, pending, attempt == 0)
		if err != nil {
			return h.storeError(st.Name, err)
		}
		if attempt == maxRouteAttempts {
			for _, i := range pending {
				entries[i].errCode, entries[i].errMessage = errInternalFailure, "Internal service failure."
			}
			return nil
		}
		retry, err := h.appendGroups(ctx, st, entries, groups)
		if err != nil {
			return err
		}
		pending = retry
	}
	return nil
}

// route groups the pending entries by the open shard that takes their hash
// key, in order of first appearance. On the first attempt it also applies
// the write limits, marking refused entries instead of grouping them.
func (h *Handler) route(ctx context.Context, stream string, entries []putEntry, pending []int, charge bool) ([]shardGroup, error) {
	var (
		groups []shardGroup
		byIdx  = map[int]int{} // shard index -> position in groups
		now    = h.now()
	)
	for _, i := range pending {
		e := &entries[i]
		sh, err := h.store.ShardForHashKey(ctx, stream, e.hashKey)
		if err != nil {
			return nil, err
		}
		if charge && h.limited() && !h.dataPlane().limiter.admitWrite(shardRef{stream, sh.Index}, e.size(), now) {
			e.errCode, e.errMessage = errThroughputExceeded, h.throughputMessage(stream, sh.Index)
			continue
		}
		g, ok := byIdx[sh.Index]
		if !ok {
			g = len(groups)
			byIdx[sh.Index] = g
			groups = append(groups, shardGroup{shard: sh.Index, partition: sh.Partition})
		}
		groups[g].entries = append(groups[g].entries, i)
	}
	return groups, nil
}

// appendGroups appends every group and returns the entries whose shard
// closed meanwhile, to route again.
func (h *Handler) appendGroups(ctx context.Context, st *store.Stream, entries []putEntry, groups []shardGroup) ([]int, error) {
	errs := make([]error, len(groups))
	if len(groups) == 1 {
		errs[0] = h.appendGroup(ctx, st, entries, groups[0])
	} else {
		var wg sync.WaitGroup
		for g := range groups {
			wg.Go(func() { errs[g] = h.appendGroup(ctx, st, entries, groups[g]) })
		}
		wg.Wait()
	}
	var retry []int
	for g, err := range errs {
		switch {
		case err == nil:
		case errors.Is(err, store.ErrShardClosed), errors.Is(err, store.ErrPartitionRetired):
			retry = append(retry, groups[g].entries...)
		case errors.Is(err, store.ErrStreamNotFound):
			return nil, h.streamNotFound(st.Name)
		case store.IsKeyError(err):
			// The stream's key is the same for every shard: AWS fails the
			// whole call with the KMS error.
			h.log.Warn("kinesis: the stream's KMS key cannot encrypt", "stream", st.Name, "err", err)
			return nil, h.storeError(st.Name, err)
		case ctx.Err() != nil:
			return nil, ctx.Err()
		default:
			h.log.Error("kinesis: append failed", "stream", st.Name, "shard", groups[g].shard, "err", err)
			for _, i := range groups[g].entries {
				entries[i].errCode, entries[i].errMessage = errInternalFailure, "Internal service failure."
			}
		}
	}
	// Keep request order among retried entries, so a shard's records stay
	// in request order across the retry.
	slices.Sort(retry)
	return retry, nil
}

// appendGroup appends one shard's entries as one batch and records where
// each landed. Records over the stream's offload threshold go to objects
// first (offload.go); a failed append deletes them again, and a retried
// one (the shard closed) writes them anew with its new batch.
func (h *Handler) appendGroup(ctx context.Context, st *store.Stream, entries []putEntry, g shardGroup) error {
	recs := make([]recordbatch.Record, 0, len(g.entries))
	firsts := make([]int, len(g.entries)) // first record of each entry in recs
	for k, i := range g.entries {
		firsts[k] = len(recs)
		e := &entries[i]
		if users, ok := deaggregate(e.data); ok {
			for _, u := range users {
				recs = append(recs, recordbatch.Record{Key: []byte(u.partitionKey), Value: u.data})
			}
			continue
		}
		recs = append(recs, recordbatch.Record{Key: []byte(e.partitionKey), Value: e.data})
	}
	clientPointers, err := h.markClientPointers(ctx, recs)
	if err != nil {
		return err
	}
	refs, err := h.offloadRecords(ctx, st, g.partition, recs)
	if err != nil {
		return err
	}
	res, err := h.store.AppendToShard(ctx, st.Name, g.shard, recs, store.AppendOptions{Objects: refs, ClientPointers: clientPointers})
	if err != nil {
		h.cfg.Offload.Discard(refs)
		return err
	}
	for k, i := range g.entries {
		entries[i].shard = res.Shard.Index
		entries[i].sequenceNumber = res.SequenceNumber(firsts[k])
	}
	return nil
}
