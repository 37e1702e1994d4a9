// On-demand capacity settings: warm throughput (UpdateStreamWarmThroughput,
// and WarmThroughputMiBps of CreateStream and UpdateStreamMode) and the
// record distribution strategy (UpdateStreamRecordDistributionStrategy, and
// RecordDistributionStrategy of CreateStream).
//
//   - Warm throughput is for ON_DEMAND streams of an account whose minimum
//     throughput billing commitment is in force (account.go), up to 10 GiB/s
//     (10240 MiB/s), as AWS documents. It is recorded and reported
//     (DescribeStreamSummary's WarmThroughput, present only for ON_DEMAND
//     streams while the commitment is in force, as in AWS); the bridge has
//     no capacity to scale, so CurrentMiBps equals TargetMiBps once the
//     update is over (UpdateStreamWarmThroughput answers with the previous
//     value as CurrentMiBps, and leaves the stream UPDATING for the state
//     delay). Switching a stream to PROVISIONED drops it.
//   - The record distribution strategy is USER_PARTITION_KEY (the default:
//     MD5 of the partition key, or the ExplicitHashKey, picks the shard) or
//     AUTO, for ON_DEMAND streams only (InvalidArgumentException otherwise,
//     as AWS documents): PutRecord(s) then spread records evenly over the
//     open shards (a uniformly random one each), ignore ExplicitHashKey and
//     take records without a partition key. A partition key that is given
//     is still stored as the record's key, so Kafka consumers and Kinesis
//     readers see it; a record put without one reads as an empty Kafka key
//     (mapping.PartitionKeyForKafkaKey's substitute on the Kinesis side).
//     The change takes effect at once and leaves the stream ACTIVE, as AWS
//     says.
//
// AWS does not publish the messages of these refusals; the bridge's say
// what was refused and why. A stream that uses AUTO cannot be switched to
// PROVISIONED until its strategy is USER_PARTITION_KEY again (AWS does not
// document this case).
package kinesis

import (
	"context"
	"math/rand/v2"
	"strconv"

	"github.com/streambridge/bridge/store"
)

// Record distribution strategies.
const (
	distributionAuto    = "AUTO"
	distributionUserKey = "USER_PARTITION_KEY"
)

// maxWarmMiBps is AWS's default ceiling of an on-demand stream's warm
// throughput: 10 GiB/s.
const maxWarmMiBps = 10240

type warmThroughput struct {
	TargetMiBps  *int `json:"TargetMiBps,omitempty"`
	CurrentMiBps *int `json:"CurrentMiBps,omitempty"`
}

func init() {
	register("UpdateStreamWarmThroughput", updateStreamWarmThroughput)
	register("UpdateStreamRecordDistributionStrategy", updateStreamRecordDistributionStrategy)
}

// recordDistribution returns the stream's record distribution strategy.
func recordDistribution(st store.Stream) string {
	if st.Config[cfgDistribution] == distributionAuto {
		return distributionAuto
	}
	return distributionUserKey
}

// warmMiBps returns the stream's warm throughput, if it has one.
func warmMiBps(st store.Stream) (int, bool) {
	n, err := strconv.Atoi(st.Config[cfgWarmMiBps])
	return n, err == nil
}

// warmThroughputOf is DescribeStreamSummary's WarmThroughput: present for
// an ON_DEMAND stream with a warm throughput while the account's
// commitment is in force.
func (h *Handler) warmThroughputOf(ctx context.Context, st store.Stream) *warmThroughput {
	n, ok := warmMiBps(st)
	if !ok || streamMode(st) != modeOnDemand {
		return nil
	}
	if on, err := h.committed(ctx); err != nil || !on {
		return nil
	}
	return &warmThroughput{TargetMiBps: &n, CurrentMiBps: &n}
}

// checkCapacity refuses a warm throughput or a distribution strategy that
// stream (in mode) cannot have; nil values pass.
func (h *Handler) checkCapacity(ctx context.Context, stream, mode string, warm *int, distribution *string) error {
	if err := h.checkMode(stream, mode, warm, distribution); err != nil || warm == nil {
		return err
	}
	on, err := h.committed(ctx)
	if err != nil {
		return err
	}
	if !on {
		return invalidArgument("Warm throughput requires MinimumThroughputBillingCommitment to be enabled for account %s.", h.cfg.Account)
	}
	return nil
}

// checkMode is checkCapacity without the account's commitment: what can be
// checked inside a store update, which must not read the store.
func (h *Handler) checkMode(stream, mode string, warm *int, distribution *string) error {
	if distribution != nil && *distribution == distributionAuto && mode != modeOnDemand {
		return invalidArgument("Record distribution strategy AUTO is only supported for streams in ON_DEMAND capacity mode; stream %s under account %s is %s.", stream, h.cfg.Account, mode)
	}
	if warm == nil {
		return nil
	}
	if mode != modeOnDemand {
		return invalidArgument("Warm throughput is only supported for streams in ON_DEMAND capacity mode; stream %s under account %s is %s.", stream, h.cfg.Account, mode)
	}
	if *warm > maxWarmMiBps {
		return limitExceeded("Warm throughput of %d MiBps for stream %s under account %s exceeds the limit of %d MiBps.", *warm, stream, h.cfg.Account, maxWarmMiBps)
	}
	return nil
}

// setCapacity records what checkCapacity let through in a stream's Config.
func setCapacity(cfg map[string]string, warm *int, distribution *string) {
	if warm != nil {
		cfg[cfgWarmMiBps] = strconv.Itoa(*warm)
	}
	switch {
	case distribution == nil:
	case *distribution == distributionAuto:
		cfg[cfgDistribution] = distributionAuto
	default:
		delete(cfg, cfgDistribution)
	}
}

// switchCapacity is UpdateStreamMode's part: a stream going PROVISIONED
// loses its warm throughput and may not be using AUTO; one going (or
// staying) ON_DEMAND takes the warm throughput given.
func (h *Handler) switchCapacity(st *store.Stream, mode string, warm *int) error {
	if mode == modeProvisioned {
		if recordDistribution(*st) == distributionAuto {
			return invalidArgument("Stream %s under account %s uses the AUTO record distribution strategy, which needs ON_DEMAND capacity mode. Set USER_PARTITION_KEY first.", st.Name, h.cfg.Account)
		}
		delete(st.Config, cfgWarmMiBps)
		return nil
	}
	setCapacity(st.Config, warm, nil)
	return nil
}

type updateWarmThroughputInput struct {
	streamRef
	WarmThroughputMiBps *int    `json:"WarmThroughputMiBps,omitempty"`
	StreamId            *string `json:"StreamId,omitempty"`
}

type updateWarmThroughputOutput struct {
	StreamARN      string          `json:"StreamARN"`
	StreamName     string          `json:"StreamName"`
	WarmThroughput *warmThroughput `json:"WarmThroughput"`
}

func updateStreamWarmThroughput(ctx context.Context, h *Handler, in *updateWarmThroughputInput) (*updateWarmThroughputOutput, error) {
	var v validator
	v.required("warmThroughputMiBps", in.WarmThroughputMiBps != nil)
	v.intRange("warmThroughputMiBps", in.WarmThroughputMiBps, 0, 1<<31-1)
	name := h.requireName(&v, in.streamRef)
	if err := v.err(); err != nil {
		return nil, err
	}
	target := *in.WarmThroughputMiBps
	st, _, err := h.lookupStream(ctx, name)
	if err != nil {
		return nil, err
	}
	if err := h.checkCapacity(ctx, name, streamMode(st), &target, nil); err != nil {
		return nil, err
	}
	var previous *int
	_, err = h.updateActive(ctx, name, statusUpdating, func(st *store.Stream) error {
		if err := h.checkMode(name, streamMode(*st), &target, nil); err != nil {
			return err
		}
		if n, ok := warmMiBps(*st); ok {
			previous = &n
		}
		setCapacity(st.Config, &target, nil)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &updateWarmThroughputOutput{
		StreamARN:      h.streamARN(name),
		StreamName:     name,
		WarmThroughput: &warmThroughput{TargetMiBps: &target, CurrentMiBps: previous},
	}, nil
}

type updateDistributionInput struct {
	StreamARN                  *string `json:"StreamARN,omitempty"`
	RecordDistributionStrategy *string `json:"RecordDistributionStrategy,omitempty"`
	StreamId                   *string `json:"StreamId,omitempty"`
}

func updateStreamRecordDistributionStrategy(ctx context.Context, h *Handler, in *updateDistributionInput) (*ackOutput, error) {
	var v validator
	if v.required("recordDistributionStrategy", in.RecordDistributionStrategy != nil) {
		v.oneOf("recordDistributionStrategy", in.RecordDistributionStrategy, distributionAuto, distributionUserKey)
	}
	name := h.streamFromARN(&v, in.StreamARN)
	if err := v.err(); err != nil {
		return nil, err
	}
	_, err := h.updateActive(ctx, name, statusActive, func(st *store.Stream) error {
		if err := h.checkMode(name, streamMode(*st), nil, in.RecordDistributionStrategy); err != nil {
			return err
		}
		setCapacity(st.Config, nil, in.RecordDistributionStrategy)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ackOutput{}, nil
}

// spreadEntries gives the entries bound for an AUTO stream hash keys of
// uniformly chosen open shards: the routing (and re-routing after a
// reshard) then works as for any hash key. Streams using partition keys
// are left alone.
func spreadEntries(st *store.Stream, entries []putEntry) {
	if recordDistribution(*st) != distributionAuto {
		return
	}
	open := st.OpenShards()
	if len(open) == 0 {
		return
	}
	for i := range entries {
		entries[i].hashKey = open[rand.IntN(len(open))].HashRange.Start
	}
}

// autoStream reports whether the stream a data-plane request names uses
// AUTO, for requests that left out a partition key: only AUTO streams take
// those. Any failure reads as no, so the request gets the validation error
// it would have got anyway.
func (h *Handler) autoStream(ctx context.Context, ref streamRef) bool {
	var v validator
	name := h.requireName(&v, ref)
	if v.err() != nil {
		return false
	}
	st, err := h.store.DescribeStream(ctx, name)
	return err == nil && recordDistribution(st) == distributionAuto
}

// optionalKey is a partition key that only AUTO streams may leave out.
func optionalKey(pk *string) string {
	if pk == nil {
		return ""
	}
	return *pk
}
