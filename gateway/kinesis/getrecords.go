package kinesis

// GetRecords: records of one shard from a shard iterator.
//
// A call returns up to Limit records (1-10000, default 10000) and at most
// 10 MiB of data and partition keys (at least one record when there is
// one), in order, never skipping one, and the iterator to go on with. The
// records are those of the shard only: after a split the partition goes on
// in the lower child, and a read of the parent stops at its end.
//
// At the end of a closed shard, and only there, NextShardIterator is null
// and ChildShards lists the shards to go on with (their ids, parents and
// hash key ranges). The call that returns a closed shard's last records
// already says so when it reached the end.
//
// MillisBehindLatest is zero once the reader has everything there is, and
// otherwise the age of the last record returned. Records gone to retention
// are skipped: an iterator below the log start reads from the oldest record
// left, as TRIM_HORIZON would. An iterator of a deleted stream (or of an
// older stream of the same name) gets ResourceNotFoundException.
//
// With --kinesis-enforce-limits a shard serves 5 calls and 2 MiB per second
// (limits.go); past that ProvisionedThroughputExceededException.
//
// Differences from AWS: a call never waits; an empty answer at the tip of an
// open shard comes back at once (AWS too answers at once, but may return
// empty answers mid-shard, which never happens here).

import (
	"context"
	"errors"

	"github.com/streambridge/bridge/mapping"
	"github.com/streambridge/bridge/store"
)

func init() {
	register("GetRecords", getRecords)
}

type getRecordsInput struct {
	ShardIterator *string `json:"ShardIterator"`
	Limit         *int    `json:"Limit,omitempty"`
	StreamARN     *string `json:"StreamARN,omitempty"`
	StreamId      *string `json:"StreamId,omitempty"`
	DryRun        *bool   `json:"DryRun,omitempty"`
}

type getRecordsOutput struct {
	Records            []kinesisRecord `json:"Records"`
	NextShardIterator  *string         `json:"NextShardIterator,omitempty"`
	MillisBehindLatest int64           `json:"MillisBehindLatest"`
	ChildShards        []childShard    `json:"ChildShards,omitempty"`
}

func getRecords(ctx context.Context, h *Handler, in *getRecordsInput) (*getRecordsOutput, error) {
	var v validator
	v.intRange("limit", in.Limit, 1, maxGetRecordsLimit)
	if v.required("shardIterator", in.ShardIterator != nil) {
		v.str("shardIterator", in.ShardIterator, 1, 512, nil)
	}
	v.str("streamARN", in.StreamARN, 1, 2048, streamARNPattern)
	if err := v.err(); err != nil {
		return nil, err
	}
	it, err := h.parseIterator(ctx, *in.ShardIterator)
	if err != nil {
		return nil, err
	}
	if err := h.checkIteratorAge(it); err != nil {
		return nil, err
	}
	if in.StreamARN != nil {
		if name, ok := h.parseStreamARN(*in.StreamARN); !ok || name != it.stream {
			return nil, invalidArgument("StreamARN %s does not match the stream of the shard iterator.", *in.StreamARN)
		}
	}
	shardID := mapping.ShardID(it.shard)
	st, err := h.streamForData(ctx, it.stream)
	if err != nil {
		var e *Error
		if errors.As(err, &e) && e.Type == errResourceNotFound {
			return nil, h.shardMissing(shardID, it.stream)
		}
		return nil, err
	}
	sh, ok := st.Shard(it.shard)
	if !ok || st.Created.UnixMilli() != it.streamCreated {
		return nil, h.shardMissing(shardID, it.stream)
	}
	if in.DryRun != nil && *in.DryRun {
		return nil, dryRun()
	}
	ref := shardRef{stream: st.Name, shard: sh.Index}
	if h.limited() && !h.dataPlane().limiter.admitRead(ref, h.now()) {
		return nil, h.throughputExceeded(st.Name, sh.Index)
	}
	limit := maxGetRecordsLimit
	if in.Limit != nil {
		limit = *in.Limit
	}
	r, err := h.readShardView(ctx, st, sh, it.offset, limit, maxGetRecordsBytes)
	if err != nil {
		if errors.Is(err, store.ErrStreamNotFound) {
			return nil, h.shardMissing(shardID, it.stream)
		}
		return nil, h.storeError(st.Name, err)
	}
	if h.limited() {
		size := 0
		for i := range r.Records {
			size += len(r.Records[i].Data) + len(r.Records[i].PartitionKey)
		}
		h.dataPlane().limiter.chargeRead(ref, size, h.now())
	}
	out := &getRecordsOutput{Records: r.Records, MillisBehindLatest: r.MillisBehind(h.now())}
	if out.Records == nil {
		out.Records = []kinesisRecord{}
	}
	if r.Ended {
		out.ChildShards, err = h.childShardsNow(&st, sh.Index)
		if err != nil {
			return nil, err
		}
		return out, nil
	}
	next, err := h.encodeIterator(ctx, shardIterator{
		issued: h.now(), streamCreated: it.streamCreated, stream: it.stream, shard: it.shard, offset: r.Next,
	})
	if err != nil {
		return nil, err
	}
	out.NextShardIterator = &next
	return out, nil
}

// childShardsNow returns the children of a shard that has ended. The
// caller's snapshot may predate the reshard that closed it: look again
// then.
func (h *Handler) childShardsNow(st *store.Stream, parent int) ([]childShard, error) {
	if children := childShardsOf(st, parent); len(children) > 0 {
		return children, nil
	}
	fresh, err := h.store.DescribeStream(st.Name)
	if err != nil {
		return nil, h.storeError(st.Name, err)
	}
	return childShardsOf(&fresh, parent), nil
}
