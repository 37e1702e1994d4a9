// Stream settings: IncreaseStreamRetentionPeriod,
// DecreaseStreamRetentionPeriod, UpdateStreamMode, StartStreamEncryption,
// StopStreamEncryption, EnableEnhancedMonitoring, DisableEnhancedMonitoring,
// DescribeLimits and UpdateMaxRecordSize.
//
//   - Retention is the store's (store.Stream.Retention), so the store
//     enforces it and Kafka clients see the same retention.ms: 24 to 8760
//     hours, Increase never shortening and Decrease never lengthening, with
//     AWS's InvalidArgumentException messages.
//   - UpdateStreamMode switches PROVISIONED and ON_DEMAND (at most twice in
//     24 hours, as in AWS); the shard count stays. ON_DEMAND streams refuse
//     SplitShard, MergeShards and UpdateShardCount, as in AWS, and are not
//     scaled automatically. WarmThroughputMiBps is taken as capacity.go
//     says.
//   - StartStreamEncryption makes the store encrypt new records at rest
//     under the KMS key KeyId names (security/kms's keyring: a key id, key
//     ARN, alias or alias ARN; alias/aws/kinesis is made on first use);
//     StopStreamEncryption stores new records in the clear. Records keep
//     the key they were written with, so all stay readable. A key that is
//     missing or disabled fails StartStreamEncryption, and later PutRecord(s)
//     and GetRecords, with the KMS*Exception AWS answers.
//   - Enhanced monitoring is recorded and reported; the bridge's own
//     Prometheus metrics are what is really there.
//   - UpdateMaxRecordSize sets the largest record (data plus partition key)
//     PutRecord(s) take: 1024-10240 KiB (maxRecordBytes).
//   - DescribeLimits reports accountShardLimit and 50 ON_DEMAND streams.
//
// Settings that take time in AWS (mode, encryption, monitoring, record
// size) leave the stream UPDATING for the state delay.
package kinesis

import (
	"context"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/streambridge/bridge/store"
)

// Retention bounds, in hours, as in AWS.
const (
	hour                  = time.Hour
	defaultRetentionHours = 24
	minRetentionHours     = 24
	maxRetentionHours     = 8760
)

// Record size bounds of UpdateMaxRecordSize, in KiB.
const (
	defaultRecordKiB = 1024
	minRecordKiB     = 1024
	maxRecordKiB     = 10240
)

// onDemandStreamLimit is AWS's default quota of ON_DEMAND streams.
const onDemandStreamLimit = 50

// retentionHours is what RetentionPeriodHours reports.
func retentionHours(st store.Stream) int {
	if st.Retention <= 0 {
		return maxRetentionHours
	}
	return int(st.Retention / hour)
}

// streamMode returns PROVISIONED or ON_DEMAND.
func streamMode(st store.Stream) string {
	if st.Config[cfgStreamMode] == modeOnDemand {
		return modeOnDemand
	}
	return modeProvisioned
}

// encryption returns EncryptionType and KeyId as DescribeStream reports
// them.
func encryption(st store.Stream) (string, *string) {
	if !st.Encryption.Enabled() {
		return encryptionNone, nil
	}
	key := st.Encryption.KeyID
	return encryptionKMS, &key
}

// Encryption types.
const (
	encryptionNone = "NONE"
	encryptionKMS  = "KMS"
)

// shardLevelMetrics returns the enabled enhanced metrics, sorted; never nil,
// as AWS reports [{"ShardLevelMetrics": []}].
func shardLevelMetrics(st store.Stream) []string {
	m := []string{}
	if v := st.Config[cfgMonitoring]; v != "" {
		m = append(m, strings.Split(v, ",")...)
	}
	sort.Strings(m)
	return m
}

// maxRecordKiBOf returns the stream's largest record size in KiB.
func maxRecordKiBOf(st store.Stream) int {
	if n, err := strconv.Atoi(st.Config[cfgMaxRecordKiB]); err == nil && n > 0 {
		return n
	}
	return defaultRecordKiB
}

// maxRecordBytes returns the largest record (data plus partition key) the
// stream takes, in bytes: 1 MiB unless UpdateMaxRecordSize raised it.
func (h *Handler) maxRecordBytes(st store.Stream) int {
	return maxRecordKiBOf(st) << 10
}

// updateActive applies change to an ACTIVE stream's settings and, when
// status is UPDATING, marks it so for the state delay.
func (h *Handler) updateActive(ctx context.Context, name, status string, change func(*store.Stream) error) (store.Stream, error) {
	if _, err := h.requireActive(ctx, name); err != nil {
		return store.Stream{}, err
	}
	st, err := h.store.UpdateStream(ctx, name, func(st *store.Stream) error {
		if st.Config == nil {
			st.Config = map[string]string{}
		}
		if err := change(st); err != nil {
			return err
		}
		if status == statusUpdating {
			h.markStatus(st, statusUpdating)
		}
		return nil
	})
	if err != nil {
		return store.Stream{}, h.storeError(name, err)
	}
	return st, nil
}

type retentionInput struct {
	streamRef
	RetentionPeriodHours *int `json:"RetentionPeriodHours,omitempty"`
}

func init() {
	register("IncreaseStreamRetentionPeriod", func(ctx context.Context, h *Handler, in *retentionInput) (*ackOutput, error) {
		return h.changeRetention(ctx, in, true)
	})
	register("DecreaseStreamRetentionPeriod", func(ctx context.Context, h *Handler, in *retentionInput) (*ackOutput, error) {
		return h.changeRetention(ctx, in, false)
	})
	register("UpdateStreamMode", updateStreamMode)
	register("StartStreamEncryption", func(ctx context.Context, h *Handler, in *encryptionInput) (*ackOutput, error) {
		return h.changeEncryption(ctx, in, true)
	})
	register("StopStreamEncryption", func(ctx context.Context, h *Handler, in *encryptionInput) (*ackOutput, error) {
		return h.changeEncryption(ctx, in, false)
	})
	register("EnableEnhancedMonitoring", func(ctx context.Context, h *Handler, in *monitoringInput) (*monitoringOutput, error) {
		return h.changeMonitoring(ctx, in, true)
	})
	register("DisableEnhancedMonitoring", func(ctx context.Context, h *Handler, in *monitoringInput) (*monitoringOutput, error) {
		return h.changeMonitoring(ctx, in, false)
	})
	register("DescribeLimits", describeLimits)
	register("UpdateMaxRecordSize", updateMaxRecordSize)
}

func (h *Handler) changeRetention(ctx context.Context, in *retentionInput, increase bool) (*ackOutput, error) {
	var v validator
	v.required("retentionPeriodHours", in.RetentionPeriodHours != nil)
	v.intRange("retentionPeriodHours", in.RetentionPeriodHours, 1, 1<<31-1)
	name := h.requireName(&v, in.streamRef)
	if err := v.err(); err != nil {
		return nil, err
	}
	hours := *in.RetentionPeriodHours
	switch {
	case hours < minRetentionHours:
		return nil, invalidArgument("Minimum allowed retention period is %d hours. Requested retention period (%d hours) is too short.", minRetentionHours, hours)
	case hours > maxRetentionHours:
		return nil, invalidArgument("Maximum allowed retention period is %d hours. Requested retention period (%d hours) is too long.", maxRetentionHours, hours)
	}
	_, err := h.updateActive(ctx, name, statusActive, func(st *store.Stream) error {
		current := retentionHours(*st)
		if increase && hours < current {
			return invalidArgument("Requested retention period (%d hours) for stream %s can not be shorter than existing retention period (%d hours). Use DecreaseRetentionPeriod API.", hours, name, current)
		}
		if !increase && hours > current {
			return invalidArgument("Requested retention period (%d hours) for stream %s can not be longer than existing retention period (%d hours). Use IncreaseRetentionPeriod API.", hours, name, current)
		}
		st.Retention = time.Duration(hours) * hour
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ackOutput{}, nil
}

type updateStreamModeInput struct {
	StreamARN           *string            `json:"StreamARN,omitempty"`
	StreamModeDetails   *streamModeDetails `json:"StreamModeDetails,omitempty"`
	WarmThroughputMiBps *int               `json:"WarmThroughputMiBps,omitempty"`
}

// modeSwitchWindow and modeSwitchesPerWindow: AWS lets a stream switch
// capacity mode twice in 24 hours.
const (
	modeSwitchWindow      = 24 * time.Hour
	modeSwitchesPerWindow = 2
)

func updateStreamMode(ctx context.Context, h *Handler, in *updateStreamModeInput) (*ackOutput, error) {
	var v validator
	if v.required("streamARN", in.StreamARN != nil) {
		v.str("streamARN", in.StreamARN, 1, 2048, streamARNPattern)
	}
	if v.required("streamModeDetails", in.StreamModeDetails != nil) {
		v.required("streamModeDetails.streamMode", in.StreamModeDetails.StreamMode != nil)
		v.oneOf("streamModeDetails.streamMode", in.StreamModeDetails.StreamMode, modeProvisioned, modeOnDemand)
	}
	v.intRange("warmThroughputMiBps", in.WarmThroughputMiBps, 0, 1<<31-1)
	var name string
	if in.StreamARN != nil && len(v.violations) == 0 {
		name = h.name(&v, streamRef{StreamARN: in.StreamARN})
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	mode := *in.StreamModeDetails.StreamMode
	if err := h.checkCapacity(ctx, name, mode, in.WarmThroughputMiBps, nil); err != nil {
		return nil, err
	}
	_, err := h.updateActive(ctx, name, statusUpdating, func(st *store.Stream) error {
		if err := h.switchCapacity(st, mode, in.WarmThroughputMiBps); err != nil {
			return err
		}
		if streamMode(*st) == mode {
			return nil
		}
		now := h.now()
		var recent []string
		for _, ms := range strings.Split(st.Config[cfgModeUpdatedMs], ",") {
			if t, err := strconv.ParseInt(ms, 10, 64); err == nil && now.Sub(time.UnixMilli(t)) < modeSwitchWindow {
				recent = append(recent, ms)
			}
		}
		if len(recent) >= modeSwitchesPerWindow {
			return limitExceeded("Stream %s under account %s has already switched capacity mode %d times in the last 24 hours.", name, h.cfg.Account, modeSwitchesPerWindow)
		}
		st.Config[cfgModeUpdatedMs] = strings.Join(append(recent, strconv.FormatInt(now.UnixMilli(), 10)), ",")
		if mode == modeOnDemand {
			st.Config[cfgStreamMode] = modeOnDemand
		} else {
			delete(st.Config, cfgStreamMode)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ackOutput{}, nil
}

type encryptionInput struct {
	streamRef
	EncryptionType *string `json:"EncryptionType,omitempty"`
	KeyId          *string `json:"KeyId,omitempty"`
}

func (h *Handler) changeEncryption(ctx context.Context, in *encryptionInput, start bool) (*ackOutput, error) {
	var v validator
	v.required("encryptionType", in.EncryptionType != nil)
	v.oneOf("encryptionType", in.EncryptionType, encryptionNone, encryptionKMS)
	if v.required("keyId", in.KeyId != nil) {
		v.str("keyId", in.KeyId, 1, 2048, nil)
	}
	name := h.requireName(&v, in.streamRef)
	if err := v.err(); err != nil {
		return nil, err
	}
	if *in.EncryptionType != encryptionKMS {
		return nil, invalidArgument("Invalid EncryptionType %s. Only KMS is supported.", *in.EncryptionType)
	}
	_, err := h.updateActive(ctx, name, statusUpdating, func(st *store.Stream) error {
		if start {
			st.Encryption.KeyID = *in.KeyId
		} else {
			st.Encryption = store.Encryption{}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ackOutput{}, nil
}

// shardMetrics are the metric names EnableEnhancedMonitoring takes besides
// ALL, which stands for all of them.
var shardMetrics = []string{
	"IncomingBytes", "IncomingRecords", "OutgoingBytes", "OutgoingRecords",
	"WriteProvisionedThroughputExceeded", "ReadProvisionedThroughputExceeded", "IteratorAgeMilliseconds",
}

const allMetrics = "ALL"

type monitoringInput struct {
	streamRef
	ShardLevelMetrics []string `json:"ShardLevelMetrics"`
}

type monitoringOutput struct {
	StreamName               string   `json:"StreamName"`
	StreamARN                string   `json:"StreamARN"`
	CurrentShardLevelMetrics []string `json:"CurrentShardLevelMetrics"`
	DesiredShardLevelMetrics []string `json:"DesiredShardLevelMetrics"`
}

func (h *Handler) changeMonitoring(ctx context.Context, in *monitoringInput, enable bool) (*monitoringOutput, error) {
	var v validator
	if v.required("shardLevelMetrics", in.ShardLevelMetrics != nil) {
		if n := len(in.ShardLevelMetrics); n < 1 || n > len(shardMetrics) {
			bound := "have length greater than or equal to 1"
			if n > 1 {
				bound = "have length less than or equal to " + strconv.Itoa(len(shardMetrics))
			}
			v.fail("shardLevelMetrics", "["+strings.Join(in.ShardLevelMetrics, ", ")+"]", bound)
		}
		for _, m := range in.ShardLevelMetrics {
			if m != allMetrics && !slices.Contains(shardMetrics, m) {
				v.fail("shardLevelMetrics", "["+strings.Join(in.ShardLevelMetrics, ", ")+"]",
					"satisfy constraint: [Member must satisfy enum value set: ["+strings.Join(append(append([]string{}, shardMetrics...), allMetrics), ", ")+"]]")
				break
			}
		}
	}
	name := h.requireName(&v, in.streamRef)
	if err := v.err(); err != nil {
		return nil, err
	}
	var current []string
	st, err := h.updateActive(ctx, name, statusUpdating, func(st *store.Stream) error {
		current = shardLevelMetrics(*st)
		set := map[string]bool{}
		for _, m := range current {
			set[m] = true
		}
		for _, m := range in.ShardLevelMetrics {
			names := []string{m}
			if m == allMetrics {
				names = shardMetrics
			}
			for _, n := range names {
				set[n] = enable
			}
		}
		var on []string
		for _, m := range shardMetrics {
			if set[m] {
				on = append(on, m)
			}
		}
		if len(on) == 0 {
			delete(st.Config, cfgMonitoring)
		} else {
			st.Config[cfgMonitoring] = strings.Join(on, ",")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &monitoringOutput{
		StreamName:               name,
		StreamARN:                h.streamARN(name),
		CurrentShardLevelMetrics: current,
		DesiredShardLevelMetrics: shardLevelMetrics(st),
	}, nil
}

type describeLimitsInput struct{}

type describeLimitsOutput struct {
	ShardLimit               int `json:"ShardLimit"`
	OpenShardCount           int `json:"OpenShardCount"`
	OnDemandStreamCount      int `json:"OnDemandStreamCount"`
	OnDemandStreamCountLimit int `json:"OnDemandStreamCountLimit"`
}

func describeLimits(ctx context.Context, h *Handler, in *describeLimitsInput) (*describeLimitsOutput, error) {
	out := &describeLimitsOutput{ShardLimit: accountShardLimit, OnDemandStreamCountLimit: onDemandStreamLimit}
	names, err := h.store.ListStreams(ctx)
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		st, err := h.store.DescribeStream(ctx, name)
		if err != nil {
			continue
		}
		out.OpenShardCount += len(st.OpenShards())
		if streamMode(st) == modeOnDemand {
			out.OnDemandStreamCount++
		}
	}
	return out, nil
}

type updateMaxRecordSizeInput struct {
	streamRef
	MaxRecordSizeInKiB *int `json:"MaxRecordSizeInKiB,omitempty"`
}

func updateMaxRecordSize(ctx context.Context, h *Handler, in *updateMaxRecordSizeInput) (*ackOutput, error) {
	var v validator
	v.required("maxRecordSizeInKiB", in.MaxRecordSizeInKiB != nil)
	v.intRange("maxRecordSizeInKiB", in.MaxRecordSizeInKiB, minRecordKiB, maxRecordKiB)
	name := h.requireName(&v, in.streamRef)
	if err := v.err(); err != nil {
		return nil, err
	}
	_, err := h.updateActive(ctx, name, statusUpdating, func(st *store.Stream) error {
		st.Config[cfgMaxRecordKiB] = strconv.Itoa(*in.MaxRecordSizeInKiB)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ackOutput{}, nil
}
