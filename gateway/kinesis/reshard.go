// Resharding: SplitShard, MergeShards and UpdateShardCount
// (UNIFORM_SCALING).
//
// The store does the work (store.Stream.Split, Merge, ScaleUniformly):
// parents close at their partitions' current ends and children continue the
// partitions, so no record moves, and a Kafka consumer sees a split's upper
// child as a new partition. Checks and messages follow AWS, in AWS's order:
// an unparsable shard id is "Could not find shard" before the stream is
// even looked up; the stream must be ACTIVE (ResourceInUseException) and
// PROVISIONED (ValidationException); a split key must be above the shard's
// StartingHashKey plus one and below its EndingHashKey; merged shards must
// be open and adjacent (in either order); UpdateShardCount may at most
// double and at least halve the open shards, stay within 10000 shards per
// stream and the account limit, and run at most 10 times in 24 hours.
//
// With a state delay the stream is UPDATING for that long after the change
// (which is visible at once; see status.go). The times at which shards open
// and close are recorded for ListShards' filters (shards.go).
package kinesis

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/streambridge/bridge/mapping"
	"github.com/streambridge/bridge/store"
)

// UpdateShardCount limits, as in AWS.
const (
	maxShardsPerStream  = 10000
	scalingsPerWindow   = 10
	scalingWindow       = 24 * time.Hour
	scalingUniform      = "UNIFORM_SCALING"
	cfgScalingTimesKey  = cfgPrefix + "scaling-times" // comma-separated Unix ms of recent UpdateShardCounts
	onDemandReshardText = "This API is only supported for the data streams with the provisioned capacity mode. Stream %s under account %s is in ON_DEMAND mode."
)

type splitShardInput struct {
	streamRef
	ShardToSplit       *string `json:"ShardToSplit,omitempty"`
	NewStartingHashKey *string `json:"NewStartingHashKey,omitempty"`
}

type mergeShardsInput struct {
	streamRef
	ShardToMerge         *string `json:"ShardToMerge,omitempty"`
	AdjacentShardToMerge *string `json:"AdjacentShardToMerge,omitempty"`
}

type updateShardCountInput struct {
	streamRef
	TargetShardCount *int    `json:"TargetShardCount,omitempty"`
	ScalingType      *string `json:"ScalingType,omitempty"`
}

type updateShardCountOutput struct {
	StreamName        string `json:"StreamName"`
	StreamARN         string `json:"StreamARN"`
	CurrentShardCount int    `json:"CurrentShardCount"`
	TargetShardCount  int    `json:"TargetShardCount"`
}

func init() {
	register("SplitShard", splitShard)
	register("MergeShards", mergeShards)
	register("UpdateShardCount", updateShardCount)
}

// reshardable returns the stream when resharding is allowed: ACTIVE and
// PROVISIONED.
func (h *Handler) reshardable(ctx context.Context, name string) (store.Stream, error) {
	st, err := h.requireActive(ctx, name)
	if err != nil {
		return store.Stream{}, err
	}
	if streamMode(st) == modeOnDemand {
		return store.Stream{}, newError(errValidation, onDemandReshardText, name, h.cfg.Account)
	}
	return st, nil
}

// afterReshard records shard times on the new layout and marks the stream
// UPDATING for the state delay; extra makes further Config changes.
func (h *Handler) afterReshard(ctx context.Context, name string, before store.Stream, extra func(*store.Stream)) error {
	at := h.now()
	_, err := h.store.UpdateStream(ctx, name, func(st *store.Stream) error {
		recordShardTimes(st, before, at)
		if extra != nil {
			extra(st)
		}
		h.markStatus(st, statusUpdating)
		return nil
	})
	if err != nil {
		return h.storeError(name, err)
	}
	return nil
}

// notEligible is AWS's message for resharding a closed shard.
func (h *Handler) notEligible(stream string, sh store.Shard, verb string) *Error {
	return invalidArgument("Shard %s in stream %s under account %s has already been merged or split, and thus is not eligible for %s.", sh.ID(), stream, h.cfg.Account, verb)
}

func splitShard(ctx context.Context, h *Handler, in *splitShardInput) (*ackOutput, error) {
	var v validator
	if v.required("newStartingHashKey", in.NewStartingHashKey != nil) {
		v.str("newStartingHashKey", in.NewStartingHashKey, 0, 0, hashKeyPattern)
	}
	if v.required("shardToSplit", in.ShardToSplit != nil) {
		v.str("shardToSplit", in.ShardToSplit, 1, 128, shardIDPattern)
	}
	name := h.requireName(&v, in.streamRef)
	if err := v.err(); err != nil {
		return nil, err
	}
	if _, ok := parseShardRef(*in.ShardToSplit); !ok {
		return nil, h.shardNotFound(name, *in.ShardToSplit)
	}
	st, err := h.reshardable(ctx, name)
	if err != nil {
		return nil, err
	}
	sh, err := h.lookupShard(st, *in.ShardToSplit)
	if err != nil {
		return nil, err
	}
	if err := h.checkShardLimit(ctx, 1); err != nil {
		return nil, err
	}
	key, perr := mapping.ParseHashKey(*in.NewStartingHashKey)
	lowest := sh.HashRange.Start.Next()
	if perr != nil || sh.HashRange.Start == mapping.MaxHashKey || key.Cmp(lowest) <= 0 || key.Cmp(sh.HashRange.End) >= 0 {
		return nil, invalidArgument("NewStartingHashKey %s used in SplitShard() on shard %s in stream %s under account %s "+
			"is not both greater than one plus the shard's StartingHashKey %s and less than the shard's EndingHashKey %s.",
			*in.NewStartingHashKey, sh.ID(), name, h.cfg.Account, sh.HashRange.Start, sh.HashRange.End)
	}
	if !sh.IsOpen() {
		return nil, h.notEligible(name, sh, "splitting")
	}
	if _, err := h.store.SplitShard(ctx, name, sh.Index, key); err != nil {
		if errors.Is(err, store.ErrShardClosed) {
			return nil, h.notEligible(name, sh, "splitting")
		}
		return nil, h.storeError(name, err)
	}
	if err := h.afterReshard(ctx, name, st, nil); err != nil {
		return nil, err
	}
	return &ackOutput{}, nil
}

func mergeShards(ctx context.Context, h *Handler, in *mergeShardsInput) (*ackOutput, error) {
	var v validator
	if v.required("shardToMerge", in.ShardToMerge != nil) {
		v.str("shardToMerge", in.ShardToMerge, 1, 128, shardIDPattern)
	}
	if v.required("adjacentShardToMerge", in.AdjacentShardToMerge != nil) {
		v.str("adjacentShardToMerge", in.AdjacentShardToMerge, 1, 128, shardIDPattern)
	}
	name := h.requireName(&v, in.streamRef)
	if err := v.err(); err != nil {
		return nil, err
	}
	for _, ref := range []string{*in.ShardToMerge, *in.AdjacentShardToMerge} {
		if _, ok := parseShardRef(ref); !ok {
			return nil, h.shardNotFound(name, ref)
		}
	}
	st, err := h.reshardable(ctx, name)
	if err != nil {
		return nil, err
	}
	a, err := h.lookupShard(st, *in.ShardToMerge)
	if err != nil {
		return nil, err
	}
	b, err := h.lookupShard(st, *in.AdjacentShardToMerge)
	if err != nil {
		return nil, err
	}
	for _, sh := range []store.Shard{a, b} {
		if !sh.IsOpen() {
			return nil, h.notEligible(name, sh, "merging")
		}
	}
	lo, hi := a, b
	if hi.HashRange.Start.Cmp(lo.HashRange.Start) < 0 {
		lo, hi = hi, lo
	}
	if a.Index == b.Index || lo.HashRange.End == mapping.MaxHashKey || lo.HashRange.End.Next() != hi.HashRange.Start {
		return nil, invalidArgument("Shards %s and %s in stream %s under account %s are not an adjacent pair of shards eligible for merging",
			a.ID(), b.ID(), name, h.cfg.Account)
	}
	if _, err := h.store.MergeShards(ctx, name, a.Index, b.Index); err != nil {
		if errors.Is(err, store.ErrShardClosed) {
			return nil, h.notEligible(name, a, "merging")
		}
		return nil, h.storeError(name, err)
	}
	if err := h.afterReshard(ctx, name, st, nil); err != nil {
		return nil, err
	}
	return &ackOutput{}, nil
}

func updateShardCount(ctx context.Context, h *Handler, in *updateShardCountInput) (*updateShardCountOutput, error) {
	var v validator
	if v.required("scalingType", in.ScalingType != nil) {
		v.oneOf("scalingType", in.ScalingType, scalingUniform)
	}
	if v.required("targetShardCount", in.TargetShardCount != nil) {
		v.intRange("targetShardCount", in.TargetShardCount, 1, 1<<31-1)
	}
	name := h.requireName(&v, in.streamRef)
	if err := v.err(); err != nil {
		return nil, err
	}
	target := *in.TargetShardCount
	st, err := h.reshardable(ctx, name)
	if err != nil {
		return nil, err
	}
	open := len(st.OpenShards())
	counts := func() string {
		return "Current open shard count: " + strconv.Itoa(open) + ", Target shard count: " + strconv.Itoa(target)
	}
	switch {
	case target > maxShardsPerStream:
		return nil, limitExceeded("Target shard count or number of open shards cannot be greater than %d. %s", maxShardsPerStream, counts())
	case target > 2*open:
		return nil, limitExceeded("UpdateShardCount cannot scale up over double your current open shard count. %s", counts())
	case 2*target < open:
		return nil, limitExceeded("UpdateShardCount cannot scale down below half your current open shard count. %s", counts())
	}
	if target > open {
		if err := h.checkShardLimit(ctx, target-open); err != nil {
			return nil, err
		}
	}
	out := &updateShardCountOutput{StreamName: name, StreamARN: h.streamARN(name), CurrentShardCount: open, TargetShardCount: target}
	if target == open {
		return out, nil
	}
	now := h.now()
	recent := recentScalings(st, now)
	if len(recent) >= scalingsPerWindow {
		return nil, limitExceeded("Exceeded the limit of %d UpdateShardCount operations in a rolling 24-hour period for stream %s under account %s.", scalingsPerWindow, name, h.cfg.Account)
	}
	if _, err := h.store.UpdateShardCount(ctx, name, target); err != nil {
		return nil, h.storeError(name, err)
	}
	recent = append(recent, strconv.FormatInt(now.UnixMilli(), 10))
	err = h.afterReshard(ctx, name, st, func(st *store.Stream) {
		st.Config[cfgScalingTimesKey] = strings.Join(recent, ",")
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// recentScalings returns the times of a stream's UpdateShardCounts within
// the last scalingWindow.
func recentScalings(st store.Stream, now time.Time) []string {
	var recent []string
	for _, ms := range strings.Split(st.Config[cfgScalingTimesKey], ",") {
		if t, err := strconv.ParseInt(ms, 10, 64); err == nil && now.Sub(time.UnixMilli(t)) < scalingWindow {
			recent = append(recent, ms)
		}
	}
	return recent
}
