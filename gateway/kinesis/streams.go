// CreateStream, DeleteStream, DescribeStream, DescribeStreamSummary and
// ListStreams.
//
// A Kinesis stream is a store stream, so Kafka topics are listed and
// described here too, and a stream made here is a topic with one partition
// per shard.
//
//   - CreateStream: without StreamModeDetails, a ShardCount makes a
//     PROVISIONED stream and no ShardCount an ON_DEMAND one of 4 shards, as
//     AWS does. ShardCount is required with StreamModeDetails PROVISIONED
//     and optional with ON_DEMAND (4 shards by default). The open
//     shards of all streams together may not exceed accountShardLimit (AWS's
//     per-account shard quota, raised here; LimitExceededException with
//     AWS's message). New streams keep records 24 hours, as in AWS. Tags,
//     MaxRecordSizeInKiB, WarmThroughputMiBps and RecordDistributionStrategy
//     are taken (the last two as capacity.go checks them).
//   - DeleteStream refuses a stream with registered consumers unless
//     EnforceConsumerDeletion is set (ResourceInUseException) and drops the
//     consumers with the stream.
//   - DescribeStream pages shards with Limit (1-10000, default 100) and
//     ExclusiveStartShardId and reports HasMoreShards. Shards are left out
//     while the stream is CREATING, and once expired (see shards.go).
//   - ListStreams pages names with Limit (1-10000, default 100) and
//     ExclusiveStartStreamName or an opaque NextToken (300 s), and returns
//     StreamSummaries alongside StreamNames.
//
// RetentionPeriodHours reports the store's retention in whole hours; a
// stream kept forever (a Kafka topic with retention.ms=-1) reports 8760,
// the API's maximum.
package kinesis

import (
	"context"
	"errors"
	"sort"
	"strconv"

	"github.com/streambridge/bridge/store"
)

// accountShardLimit bounds the open shards of all streams together, as
// AWS's account shard quota does (500 in most regions by default). The
// bridge is one machine's emulator, so the bound is generous.
const accountShardLimit = 10000

// onDemandShards is the shard count of an ON_DEMAND stream created without
// one, as in AWS (4 MiB/s of write capacity).
const onDemandShards = 4

// Stream modes.
const (
	modeProvisioned = "PROVISIONED"
	modeOnDemand    = "ON_DEMAND"
)

type streamModeDetails struct {
	StreamMode *string `json:"StreamMode,omitempty"`
}

// ackOutput is the empty response of operations that return nothing.
type ackOutput struct{}

type createStreamInput struct {
	StreamName          *string            `json:"StreamName,omitempty"`
	ShardCount          *int               `json:"ShardCount,omitempty"`
	StreamModeDetails   *streamModeDetails `json:"StreamModeDetails,omitempty"`
	Tags                map[string]string  `json:"Tags,omitempty"`
	MaxRecordSizeInKiB  *int               `json:"MaxRecordSizeInKiB,omitempty"`
	WarmThroughputMiBps *int               `json:"WarmThroughputMiBps,omitempty"`

	RecordDistributionStrategy *string `json:"RecordDistributionStrategy,omitempty"`
}

func init() {
	register("CreateStream", createStream)
	register("DeleteStream", deleteStream)
	register("DescribeStream", describeStream)
	register("DescribeStreamSummary", describeStreamSummary)
	register("ListStreams", listStreams)
}

func createStream(ctx context.Context, h *Handler, in *createStreamInput) (*ackOutput, error) {
	mode := modeProvisioned
	var v validator
	if d := in.StreamModeDetails; d != nil {
		v.required("streamModeDetails.streamMode", d.StreamMode != nil)
		v.oneOf("streamModeDetails.streamMode", d.StreamMode, modeProvisioned, modeOnDemand)
		if d.StreamMode != nil {
			mode = *d.StreamMode
		}
	} else if in.ShardCount == nil {
		mode = modeOnDemand
	}
	if mode == modeProvisioned {
		v.required("shardCount", in.ShardCount != nil)
	}
	v.intRange("shardCount", in.ShardCount, 1, store.MaxShards)
	if v.required("streamName", in.StreamName != nil) {
		v.str("streamName", in.StreamName, 1, 128, streamNamePattern)
	}
	validateTagMap(&v, "tags", in.Tags, 0, maxTagsPerCall)
	v.intRange("maxRecordSizeInKiB", in.MaxRecordSizeInKiB, minRecordKiB, maxRecordKiB)
	v.intRange("warmThroughputMiBps", in.WarmThroughputMiBps, 0, 1<<31-1)
	v.oneOf("recordDistributionStrategy", in.RecordDistributionStrategy, distributionAuto, distributionUserKey)
	if err := v.err(); err != nil {
		return nil, err
	}
	name := *in.StreamName
	if err := h.checkCapacity(ctx, name, mode, in.WarmThroughputMiBps, in.RecordDistributionStrategy); err != nil {
		return nil, err
	}
	if err := checkTagChars(in.Tags, "add tags to stream "+name, h.cfg.Account); err != nil {
		return nil, err
	}
	if len(in.Tags) > maxTagsPerStream {
		return nil, h.tooManyTags(name)
	}
	shards := onDemandShards
	if in.ShardCount != nil {
		shards = *in.ShardCount
	}
	if err := h.checkShardLimit(ctx, shards); err != nil {
		return nil, err
	}

	cfg := map[string]string{}
	if mode == modeOnDemand {
		cfg[cfgStreamMode] = modeOnDemand
	}
	for k, val := range in.Tags {
		cfg[cfgTagPrefix+k] = val
	}
	if in.MaxRecordSizeInKiB != nil {
		cfg[cfgMaxRecordKiB] = strconv.Itoa(*in.MaxRecordSizeInKiB)
	}
	setCapacity(cfg, in.WarmThroughputMiBps, in.RecordDistributionStrategy)
	layout := store.Stream{Config: cfg}
	h.markStatus(&layout, statusCreating)
	// A stream of this name whose DELETING delay is over goes first.
	_, _, _ = h.lookupStream(ctx, name)
	_, err := h.store.CreateStream(ctx, store.StreamConfig{
		Name:       name,
		ShardCount: shards,
		Retention:  defaultRetentionHours * hour,
		Config:     layout.Config,
	})
	if err != nil {
		return nil, h.storeError(name, err)
	}
	return &ackOutput{}, nil
}

// checkShardLimit answers LimitExceededException, in AWS's words, when
// adding shards open shards would go over accountShardLimit.
func (h *Handler) checkShardLimit(ctx context.Context, adding int) error {
	open, err := h.openShardCount(ctx)
	if err != nil {
		return err
	}
	if open+adding <= accountShardLimit {
		return nil
	}
	return limitExceeded("This request would exceed the shard limit for the account %s in %s. "+
		"Current shard count for the account: %d. Limit: %d. "+
		"Number of additional shards that would have resulted from this request: %d. "+
		"Refer to the AWS Service Limits page (http://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) "+
		"for current limits and how to request higher limits.",
		h.cfg.Account, h.cfg.Region, open, accountShardLimit, adding)
}

// openShardCount counts the open shards of every stream.
func (h *Handler) openShardCount(ctx context.Context) (int, error) {
	names, err := h.store.ListStreams(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, name := range names {
		st, err := h.store.DescribeStream(ctx, name)
		if err != nil {
			continue
		}
		for _, sh := range st.Shards {
			if sh.IsOpen() {
				n++
			}
		}
	}
	return n, nil
}

type deleteStreamInput struct {
	streamRef
	EnforceConsumerDeletion *bool `json:"EnforceConsumerDeletion,omitempty"`
}

func deleteStream(ctx context.Context, h *Handler, in *deleteStreamInput) (*ackOutput, error) {
	var v validator
	name := h.requireName(&v, in.streamRef)
	if err := v.err(); err != nil {
		return nil, err
	}
	if _, err := h.requireActive(ctx, name); err != nil {
		return nil, err
	}
	consumers, err := h.listConsumers(ctx, name)
	if err != nil {
		return nil, err
	}
	if len(consumers) > 0 && (in.EnforceConsumerDeletion == nil || !*in.EnforceConsumerDeletion) {
		return nil, resourceInUse("Stream %s under account %s has registered consumers. "+
			"Deregister them or set EnforceConsumerDeletion to delete the stream with them.", name, h.cfg.Account)
	}
	if h.cfg.StateDelay <= 0 {
		if err := h.deleteNow(ctx, name); err != nil {
			return nil, h.storeError(name, err)
		}
		return &ackOutput{}, nil
	}
	_, err = h.store.UpdateStream(ctx, name, func(st *store.Stream) error {
		h.markStatus(st, statusDeleting)
		return nil
	})
	if err != nil {
		return nil, h.storeError(name, err)
	}
	h.scheduleDelete(name, h.cfg.StateDelay)
	return &ackOutput{}, nil
}

type describeStreamInput struct {
	streamRef
	Limit                 *int    `json:"Limit,omitempty"`
	ExclusiveStartShardId *string `json:"ExclusiveStartShardId,omitempty"`
}

type enhancedMetrics struct {
	ShardLevelMetrics []string `json:"ShardLevelMetrics"`
}

type streamDescription struct {
	StreamName              string             `json:"StreamName"`
	StreamARN               string             `json:"StreamARN"`
	StreamStatus            string             `json:"StreamStatus"`
	StreamModeDetails       streamModeDetails  `json:"StreamModeDetails"`
	Shards                  []shardDescription `json:"Shards"`
	HasMoreShards           bool               `json:"HasMoreShards"`
	RetentionPeriodHours    int                `json:"RetentionPeriodHours"`
	StreamCreationTimestamp Timestamp          `json:"StreamCreationTimestamp"`
	EnhancedMonitoring      []enhancedMetrics  `json:"EnhancedMonitoring"`
	EncryptionType          string             `json:"EncryptionType"`
	KeyId                   *string            `json:"KeyId,omitempty"`
}

type describeStreamOutput struct {
	StreamDescription streamDescription `json:"StreamDescription"`
}

// Defaults and bounds of DescribeStream's and ListStreams' Limit.
const (
	describeStreamDefault = 100
	listStreamsDefault    = 100
	pageMax               = 10000
)

func describeStream(ctx context.Context, h *Handler, in *describeStreamInput) (*describeStreamOutput, error) {
	var v validator
	v.intRange("limit", in.Limit, 1, pageMax)
	v.str("exclusiveStartShardId", in.ExclusiveStartShardId, 1, 128, shardIDPattern)
	name := h.requireName(&v, in.streamRef)
	if err := v.err(); err != nil {
		return nil, err
	}
	st, status, err := h.lookupStream(ctx, name)
	if err != nil {
		return nil, err
	}
	limit := describeStreamDefault
	if in.Limit != nil {
		limit = *in.Limit
	}
	after := -1
	if in.ExclusiveStartShardId != nil {
		after = shardRefIndex(*in.ExclusiveStartShardId)
	}
	d := streamDescription{
		StreamName:              st.Name,
		StreamARN:               h.streamARN(st.Name),
		StreamStatus:            status,
		StreamModeDetails:       streamModeDetails{StreamMode: strRef(streamMode(st))},
		Shards:                  []shardDescription{},
		RetentionPeriodHours:    retentionHours(st),
		StreamCreationTimestamp: Timestamp{Time: st.Created},
		EnhancedMonitoring:      []enhancedMetrics{{ShardLevelMetrics: shardLevelMetrics(st)}},
	}
	d.EncryptionType, d.KeyId = encryption(st)
	if status != statusCreating {
		l := h.newShardLister(ctx, st)
		for _, sh := range st.Shards {
			if sh.Index <= after || l.expired(sh) {
				continue
			}
			if len(d.Shards) == limit {
				d.HasMoreShards = true
				break
			}
			d.Shards = append(d.Shards, describeShard(sh))
		}
	}
	return &describeStreamOutput{StreamDescription: d}, nil
}

type describeStreamSummaryInput struct {
	streamRef
}

type streamDescriptionSummary struct {
	StreamName              string            `json:"StreamName"`
	StreamARN               string            `json:"StreamARN"`
	StreamStatus            string            `json:"StreamStatus"`
	StreamModeDetails       streamModeDetails `json:"StreamModeDetails"`
	RetentionPeriodHours    int               `json:"RetentionPeriodHours"`
	StreamCreationTimestamp Timestamp         `json:"StreamCreationTimestamp"`
	EnhancedMonitoring      []enhancedMetrics `json:"EnhancedMonitoring"`
	EncryptionType          string            `json:"EncryptionType"`
	KeyId                   *string           `json:"KeyId,omitempty"`
	OpenShardCount          int               `json:"OpenShardCount"`
	ConsumerCount           int               `json:"ConsumerCount"`
	MaxRecordSizeInKiB      int               `json:"MaxRecordSizeInKiB"`

	WarmThroughput             *warmThroughput `json:"WarmThroughput,omitempty"`
	RecordDistributionStrategy string          `json:"RecordDistributionStrategy"`
}

type describeStreamSummaryOutput struct {
	StreamDescriptionSummary streamDescriptionSummary `json:"StreamDescriptionSummary"`
}

func describeStreamSummary(ctx context.Context, h *Handler, in *describeStreamSummaryInput) (*describeStreamSummaryOutput, error) {
	var v validator
	name := h.requireName(&v, in.streamRef)
	if err := v.err(); err != nil {
		return nil, err
	}
	st, status, err := h.lookupStream(ctx, name)
	if err != nil {
		return nil, err
	}
	consumers, err := h.listConsumers(ctx, name)
	if err != nil {
		return nil, err
	}
	s := streamDescriptionSummary{
		StreamName:              st.Name,
		StreamARN:               h.streamARN(st.Name),
		StreamStatus:            status,
		StreamModeDetails:       streamModeDetails{StreamMode: strRef(streamMode(st))},
		RetentionPeriodHours:    retentionHours(st),
		StreamCreationTimestamp: Timestamp{Time: st.Created},
		EnhancedMonitoring:      []enhancedMetrics{{ShardLevelMetrics: shardLevelMetrics(st)}},
		ConsumerCount:           len(consumers),
		MaxRecordSizeInKiB:      maxRecordKiBOf(st),

		WarmThroughput:             h.warmThroughputOf(ctx, st),
		RecordDistributionStrategy: recordDistribution(st),
	}
	s.EncryptionType, s.KeyId = encryption(st)
	if status != statusCreating {
		s.OpenShardCount = len(st.OpenShards())
	}
	return &describeStreamSummaryOutput{StreamDescriptionSummary: s}, nil
}

type listStreamsInput struct {
	Limit                    *int    `json:"Limit,omitempty"`
	ExclusiveStartStreamName *string `json:"ExclusiveStartStreamName,omitempty"`
	NextToken                *string `json:"NextToken,omitempty"`
}

type streamSummary struct {
	StreamName              string            `json:"StreamName"`
	StreamARN               string            `json:"StreamARN"`
	StreamStatus            string            `json:"StreamStatus"`
	StreamModeDetails       streamModeDetails `json:"StreamModeDetails"`
	StreamCreationTimestamp Timestamp         `json:"StreamCreationTimestamp"`
}

type listStreamsOutput struct {
	StreamNames     []string        `json:"StreamNames"`
	HasMoreStreams  bool            `json:"HasMoreStreams"`
	NextToken       *string         `json:"NextToken,omitempty"`
	StreamSummaries []streamSummary `json:"StreamSummaries"`
}

// listStreamsToken is what a ListStreams NextToken carries: the last name
// returned and when the token expires.
type listStreamsToken struct {
	After   string `json:"a"`
	Expires int64  `json:"e"`
}

func listStreams(ctx context.Context, h *Handler, in *listStreamsInput) (*listStreamsOutput, error) {
	var v validator
	v.intRange("limit", in.Limit, 1, pageMax)
	v.str("exclusiveStartStreamName", in.ExclusiveStartStreamName, 1, 128, streamNamePattern)
	v.str("nextToken", in.NextToken, 1, maxNextTokenLength, nil)
	if err := v.err(); err != nil {
		return nil, err
	}
	limit := listStreamsDefault
	if in.Limit != nil {
		limit = *in.Limit
	}
	after := ""
	switch {
	case in.NextToken != nil && in.ExclusiveStartStreamName != nil:
		return nil, invalidArgument("NextToken and ExclusiveStartStreamName cannot be provided together.")
	case in.NextToken != nil:
		var tok listStreamsToken
		if err := h.decodeToken(*in.NextToken, &tok, func() int64 { return tok.Expires }); err != nil {
			return nil, err
		}
		after = tok.After
	case in.ExclusiveStartStreamName != nil:
		after = *in.ExclusiveStartStreamName
	}
	names, err := h.store.ListStreams(ctx)
	if err != nil {
		return nil, err
	}
	start := sort.SearchStrings(names, after)
	if start < len(names) && names[start] == after {
		start++
	}
	out := &listStreamsOutput{StreamNames: []string{}, StreamSummaries: []streamSummary{}}
	for _, name := range names[start:] {
		st, status, err := h.lookupStream(ctx, name)
		var e *Error
		if errors.As(err, &e) && e.Type == errResourceNotFound {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, err
		}
		if len(out.StreamNames) == limit {
			out.HasMoreStreams = true
			next := encodeToken(listStreamsToken{
				After:   out.StreamNames[len(out.StreamNames)-1],
				Expires: h.now().Add(nextTokenLifetime).UnixMilli(),
			})
			out.NextToken = &next
			break
		}
		out.StreamNames = append(out.StreamNames, name)
		out.StreamSummaries = append(out.StreamSummaries, streamSummary{
			StreamName:              name,
			StreamARN:               h.streamARN(name),
			StreamStatus:            status,
			StreamModeDetails:       streamModeDetails{StreamMode: strRef(streamMode(st))},
			StreamCreationTimestamp: Timestamp{Time: st.Created},
		})
	}
	return out, nil
}

func strRef(s string) *string { return &s }
