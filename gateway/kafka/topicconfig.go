package kafka

// Topic configs: the Kafka view of a stream's settings.
//
// A stream's retention lives in store.Stream.Retention, because the store
// enforces it and the Kinesis front end changes it too (its retention period
// is the same setting). retention.bytes is kept under its Kafka name and
// mirrored into store.Stream.RetentionBytes, which the store enforces. Every other Kafka topic config lives in
// store.Stream.Config under its Kafka name, and only when it was set
// explicitly: a key absent from the map means "the default", which is how
// DescribeConfigs tells DEFAULT_CONFIG from DYNAMIC_TOPIC_CONFIG and how
// AlterConfigs returns unspecified keys to their defaults. Other front ends
// keep their own keys in the same map, so this file only ever touches the
// keys it owns (topicConfigDefs). encryption.kms.key.id, the bridge's own,
// is store.Stream.Encryption, which Kinesis's StartStreamEncryption sets too.
//
// Only the configs that mean something here are accepted; an unknown key is
// rejected with INVALID_CONFIG rather than silently ignored, so a client never
// believes a setting took effect when it did not. A few broker-fixed values
// (min.insync.replicas, compression.type) are reported read-only and accepted
// only with the value they already have, because admin tools commonly send them
// on create.

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streambridge/bridge/gateway/payloads"
	"github.com/streambridge/bridge/store"
)

// Kafka topic config names this gateway understands.
const (
	cfgRetentionMs      = "retention.ms"
	cfgRetentionBytes   = "retention.bytes"
	cfgMaxMessageBytes  = "max.message.bytes"
	cfgCleanupPolicy    = "cleanup.policy"
	cfgTimestampType    = "message.timestamp.type"
	cfgMinInsyncRepl    = "min.insync.replicas"
	cfgCompressionType  = "compression.type"
	cfgEncryptionKey    = "encryption.kms.key.id" // the bridge's own: store.Stream.Encryption
	cfgOffloadBucket    = payloads.ConfigBucket   // the bridge's own, as is the next
	cfgOffloadThreshold = payloads.ConfigThreshold
	cfgDeleteRetention  = "delete.retention.ms"
	cfgMinCompLag       = "min.compaction.lag.ms"
	cfgMaxCompLag       = "max.compaction.lag.ms"
	cfgMinDirtyRatio    = "min.cleanable.dirty.ratio"
	timestampCreateTime = "CreateTime"
	timestampLogAppend  = "LogAppendTime"
)

// Defaults are Kafka's own, so a client sees what a stock broker would say.
const (
	// DefaultRetentionMs is Kafka's log.retention.hours=168. A Kafka-created
	// topic without retention.ms gets it, as on a stock broker.
	DefaultRetentionMs int64 = 7 * 24 * 60 * 60 * 1000
	// DefaultMaxMessageBytes is Kafka's message.max.bytes default: 1 MiB
	// plus the record batch overhead.
	DefaultMaxMessageBytes int32 = 1048588
	// DefaultRetention is DefaultRetentionMs as a store retention.
	DefaultRetention = time.Duration(DefaultRetentionMs) * time.Millisecond
	// DefaultDeleteRetentionMs is log.cleaner.delete.retention.ms: 1 day.
	DefaultDeleteRetentionMs int64 = 24 * 60 * 60 * 1000
	// DefaultMinDirtyRatio is log.cleaner.min.cleanable.ratio.
	DefaultMinDirtyRatio = 0.5
)

// TopicConfig is the effective Kafka config of a topic, defaults filled in.
type TopicConfig struct {
	RetentionMs     int64  // -1 keeps records forever
	RetentionBytes  int64  // -1 for no size limit; per partition, oldest whole batches go first
	MaxMessageBytes int32  // largest record batch Produce accepts
	CleanupPolicy   string // "delete", "compact" or both, comma-separated
	Compacted       bool   // cleanup.policy has compact: Produce refuses records without a key
	LogAppendTime   bool   // message.timestamp.type=LogAppendTime: the broker stamps batches
}

// TopicConfigFor returns the effective config of st. Values stored under the
// Kafka keys were validated when set; one that does not parse (a hand-edited
// store, say) counts as unset rather than failing Produce.
func TopicConfigFor(st *store.Stream) TopicConfig {
	tc := TopicConfig{
		RetentionMs:     retentionMsOf(st),
		RetentionBytes:  -1,
		MaxMessageBytes: DefaultMaxMessageBytes,
		CleanupPolicy:   "delete",
	}
	if v, ok := st.Config[cfgRetentionBytes]; ok {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= -1 {
			tc.RetentionBytes = n
		}
	}
	if v, ok := st.Config[cfgMaxMessageBytes]; ok {
		if n, err := strconv.ParseInt(v, 10, 32); err == nil && n >= 0 {
			tc.MaxMessageBytes = int32(n)
		}
	}
	tc.LogAppendTime = st.Config[cfgTimestampType] == timestampLogAppend
	if v, ok := st.Config[cfgCleanupPolicy]; ok {
		tc.CleanupPolicy = v
	}
	tc.Compacted = st.Compaction.Enabled
	return tc
}

// DefaultTopicStreamConfig is what auto-creation (Metadata, Produce) makes a
// topic of: the same defaults CreateTopics without configs gives, so every
// topic reports the same defaults however it came to be. The caller adds the
// topic id (newTopicConfig).
func DefaultTopicStreamConfig(name string, partitions int) store.StreamConfig {
	return store.StreamConfig{Name: name, ShardCount: partitions, Retention: DefaultRetention}
}

// topicConfigDef describes one topic config key.
type topicConfigDef struct {
	name     string
	typ      kmsg.ConfigType
	synonym  string // the broker-level config this topic config defaults from
	readOnly bool   // fixed here: accepted only with its default value
	doc      string
	// normalize validates a value and returns its canonical form.
	normalize func(v string) (string, *kafkaError)
}

// topicConfigDefs lists the keys in the order DescribeConfigs reports them.
var topicConfigDefs = []topicConfigDef{
	{name: cfgCleanupPolicy, typ: kmsg.ConfigTypeList, synonym: "log.cleanup.policy",
		doc:       `"delete" removes old records by retention.ms and retention.bytes; "compact" keeps the latest record of each key (the store's cleaner, in the background); "compact,delete" does both.`,
		normalize: normalizeCleanupPolicy},
	{name: cfgCompressionType, typ: kmsg.ConfigTypeString, synonym: "compression.type", readOnly: true,
		doc:       `Always "producer": batches are stored exactly as the producer compressed them.`,
		normalize: fixedValue(cfgCompressionType, "producer")},
	{name: cfgDeleteRetention, typ: kmsg.ConfigTypeLong, synonym: "log.cleaner.delete.retention.ms",
		doc:       "How long a tombstone (null value) of a compacted topic stays after the cleaner first kept it, so consumers reading from the start see the deletion.",
		normalize: intRange(cfgDeleteRetention, 0, math.MaxInt64)},
	{name: cfgEncryptionKey, typ: kmsg.ConfigTypeString,
		doc:       "The bridge's own: the KMS key (key id, key ARN, alias such as alias/aws/kafka, or alias ARN) that encrypts new records at rest; empty stores them in the clear. The same setting as Kinesis StartStreamEncryption's KeyId.",
		normalize: normalizeKeyID},
	{name: cfgMaxMessageBytes, typ: kmsg.ConfigTypeInt, synonym: "message.max.bytes",
		doc:       "The largest record batch size allowed in this topic; larger produce requests get MESSAGE_TOO_LARGE.",
		normalize: intRange(cfgMaxMessageBytes, 0, math.MaxInt32)},
	{name: cfgTimestampType, typ: kmsg.ConfigTypeString, synonym: "log.message.timestamp.type",
		doc:       "CreateTime keeps the producer's timestamps; LogAppendTime stamps each batch with the time it was stored.",
		normalize: normalizeTimestampType},
	{name: cfgMaxCompLag, typ: kmsg.ConfigTypeLong, synonym: "log.cleaner.max.compaction.lag.ms",
		doc:       "A compacted partition whose oldest uncleaned record is older than this is cleaned however low its dirty ratio.",
		normalize: intRange(cfgMaxCompLag, 1, math.MaxInt64)},
	{name: cfgMinCompLag, typ: kmsg.ConfigTypeLong, synonym: "log.cleaner.min.compaction.lag.ms",
		doc:       "Records younger than this (by their batch's largest timestamp) are not compacted yet.",
		normalize: intRange(cfgMinCompLag, 0, math.MaxInt64)},
	{name: cfgMinDirtyRatio, typ: kmsg.ConfigTypeDouble, synonym: "log.cleaner.min.cleanable.ratio",
		doc:       "The share of a compacted partition's bytes written since its last cleaning above which the cleaner runs on it.",
		normalize: normalizeRatio},
	{name: cfgMinInsyncRepl, typ: kmsg.ConfigTypeInt, synonym: "min.insync.replicas", readOnly: true,
		doc:       "Always 1: the bridge is a single node and acks=all means durably stored on it.",
		normalize: fixedValue(cfgMinInsyncRepl, "1")},
	{name: cfgOffloadBucket, typ: kmsg.ConfigTypeString,
		doc:       "The bridge's own: the bucket of the S3-style API that keeps this topic's records over offload.threshold.bytes (made on first use); records keep a pointer and are restored on fetch.",
		normalize: normalizeBucketName},
	{name: cfgOffloadThreshold, typ: kmsg.ConfigTypeLong,
		doc:       "The bridge's own: records larger than this (key, value and headers) are kept as objects in offload.s3.bucket; 0 keeps every record inline, as does a topic encrypted at rest (encryption.kms.key.id), since objects are not encrypted. The default is the Kinesis and SQS record limit.",
		normalize: intRange(cfgOffloadThreshold, 0, math.MaxInt64)},
	{name: cfgRetentionBytes, typ: kmsg.ConfigTypeLong, synonym: "log.retention.bytes",
		doc:       "Stored and reported; not enforced yet (records are deleted by retention.ms and DeleteRecords only).",
		normalize: intRange(cfgRetentionBytes, -1, math.MaxInt64)},
	{name: cfgRetentionMs, typ: kmsg.ConfigTypeLong, synonym: "log.retention.ms",
		doc:       "How long records are kept, by timestamp (the store trims periodically); -1 keeps them forever. Shared with the Kinesis retention period.",
		normalize: intRange(cfgRetentionMs, -1, math.MaxInt64)},
}

// topicConfigDefFor returns the definition of name.
func topicConfigDefFor(name string) (*topicConfigDef, bool) {
	for i := range topicConfigDefs {
		if topicConfigDefs[i].name == name {
			return &topicConfigDefs[i], true
		}
	}
	return nil, false
}

// normalizeTopicConfig validates one key and value the way Kafka's ConfigDef
// does and returns the canonical value. A nil value is an error: Kafka
// rejects null topic config values on create and alter.
func normalizeTopicConfig(name string, value *string) (string, *kafkaError) {
	def, ok := topicConfigDefFor(name)
	if !ok {
		return "", refuse(kerr.InvalidConfig, "Unknown topic config name: %s", name)
	}
	if value == nil {
		return "", refuse(kerr.InvalidConfig, "Null value not supported for topic config: %s", name)
	}
	return def.normalize(strings.TrimSpace(*value))
}

func intRange(name string, lo, hi int64) func(string) (string, *kafkaError) {
	typ := "LONG"
	bits := 64
	if hi == math.MaxInt32 {
		typ, bits = "INT", 32
	}
	return func(v string) (string, *kafkaError) {
		n, err := strconv.ParseInt(v, 10, bits)
		if err != nil {
			return "", refuse(kerr.InvalidConfig, "Invalid value %s for configuration %s: Not a number of type %s", v, name, typ)
		}
		if n < lo {
			return "", refuse(kerr.InvalidConfig, "Invalid value %s for configuration %s: Value must be at least %d", v, name, lo)
		}
		return strconv.FormatInt(n, 10), nil
	}
}

func fixedValue(name, fixed string) func(string) (string, *kafkaError) {
	return func(v string) (string, *kafkaError) {
		if v != fixed {
			return "", refuse(kerr.InvalidConfig, "Invalid value %s for configuration %s: it is fixed at %s on this single-node bridge", v, name, fixed)
		}
		return v, nil
	}
}

func normalizeCleanupPolicy(v string) (string, *kafkaError) {
	var policies []string
	for _, p := range strings.Split(v, ",") {
		p = strings.TrimSpace(p)
		if p != "delete" && p != "compact" {
			return "", refuse(kerr.InvalidConfig, "Invalid value %s for configuration cleanup.policy: String must be one of: compact, delete", v)
		}
		if !slices.Contains(policies, p) {
			policies = append(policies, p)
		}
	}
	return strings.Join(policies, ","), nil
}

func normalizeRatio(v string) (string, *kafkaError) {
	f, err := strconv.ParseFloat(v, 64)
	switch {
	case err != nil || math.IsNaN(f):
		return "", refuse(kerr.InvalidConfig, "Invalid value %s for configuration %s: Not a number of type DOUBLE", v, cfgMinDirtyRatio)
	case f < 0:
		return "", refuse(kerr.InvalidConfig, "Invalid value %s for configuration %s: Value must be at least 0", v, cfgMinDirtyRatio)
	case f > 1:
		return "", refuse(kerr.InvalidConfig, "Invalid value %s for configuration %s: Value must be no more than 1", v, cfgMinDirtyRatio)
	}
	return strconv.FormatFloat(f, 'g', -1, 64), nil
}

// checkTopicConfigSet refuses what Kafka's LogConfig.validateValues refuses
// across keys of a whole config set o (canonical values).
func checkTopicConfigSet(o map[string]string) *kafkaError {
	lag := func(name string, dflt int64) int64 {
		if n, err := strconv.ParseInt(o[name], 10, 64); err == nil {
			return n
		}
		return dflt
	}
	if minLag, maxLag := lag(cfgMinCompLag, 0), lag(cfgMaxCompLag, math.MaxInt64); minLag > maxLag {
		return refuse(kerr.InvalidConfig, "conflict topic config setting %s (%d) > %s (%d)", cfgMinCompLag, minLag, cfgMaxCompLag, maxLag)
	}
	return nil
}

// compactionOf is the store's compaction policy for st's Kafka configs.
func compactionOf(st *store.Stream) store.Compaction {
	policies := splitConfigList(st.Config[cfgCleanupPolicy])
	if !slices.Contains(policies, "compact") {
		return store.Compaction{}
	}
	ms := func(name string, dflt int64) time.Duration {
		n, err := strconv.ParseInt(st.Config[name], 10, 64)
		if err != nil {
			n = dflt
		}
		if n >= maxRetentionMs {
			return 0 // past what a Duration holds: never, as Long.MAX_VALUE means
		}
		return time.Duration(n) * time.Millisecond
	}
	ratio, err := strconv.ParseFloat(st.Config[cfgMinDirtyRatio], 64)
	if err != nil {
		ratio = DefaultMinDirtyRatio
	}
	return store.Compaction{
		Enabled:         true,
		Delete:          slices.Contains(policies, "delete"),
		DeleteRetention: ms(cfgDeleteRetention, DefaultDeleteRetentionMs),
		MinLag:          ms(cfgMinCompLag, 0),
		MaxLag:          ms(cfgMaxCompLag, math.MaxInt64),
		MinDirtyRatio:   ratio,
	}
}

// maxKeyIDLength is KMS's limit on a key reference (Kinesis's KeyId too).
const maxKeyIDLength = 2048

func normalizeKeyID(v string) (string, *kafkaError) {
	if len(v) > maxKeyIDLength {
		return "", refuse(kerr.InvalidConfig, "Invalid value for configuration %s: a KMS key reference is at most %d characters", cfgEncryptionKey, maxKeyIDLength)
	}
	return v, nil
}

func normalizeTimestampType(v string) (string, *kafkaError) {
	if v != timestampCreateTime && v != timestampLogAppend {
		return "", refuse(kerr.InvalidConfig, "Invalid value %s for configuration message.timestamp.type: String must be one of: CreateTime, LogAppendTime", v)
	}
	return v, nil
}

// topicConfigDefault returns the default value of a key as Kafka prints it.
func topicConfigDefault(name string) string {
	switch name {
	case cfgCleanupPolicy:
		return "delete"
	case cfgCompressionType:
		return "producer"
	case cfgDeleteRetention:
		return strconv.FormatInt(DefaultDeleteRetentionMs, 10)
	case cfgMaxCompLag:
		return strconv.FormatInt(math.MaxInt64, 10)
	case cfgMinCompLag:
		return "0"
	case cfgMinDirtyRatio:
		return "0.5"
	case cfgMaxMessageBytes:
		return strconv.FormatInt(int64(DefaultMaxMessageBytes), 10)
	case cfgTimestampType:
		return timestampCreateTime
	case cfgMinInsyncRepl:
		return "1"
	case cfgOffloadBucket:
		return payloads.DefaultBucket
	case cfgOffloadThreshold:
		return strconv.Itoa(payloads.DefaultThreshold)
	case cfgRetentionBytes:
		return "-1"
	case cfgRetentionMs:
		return strconv.FormatInt(DefaultRetentionMs, 10)
	}
	return ""
}

// normalizeBucketName accepts the bucket names S3 accepts: 3 to 63
// lower-case letters, digits, dots and hyphens, starting and ending with a
// letter or digit.
func normalizeBucketName(v string) (string, *kafkaError) {
	ok := len(v) >= 3 && len(v) <= 63
	for i := 0; ok && i < len(v); i++ {
		c := v[i]
		alnum := c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
		ok = alnum || (c == '.' || c == '-') && i > 0 && i < len(v)-1
	}
	if !ok {
		return "", refuse(kerr.InvalidConfig, "Invalid value %s for configuration %s: not a valid bucket name (3-63 lower-case letters, digits, dots and hyphens)", v, cfgOffloadBucket)
	}
	return v, nil
}

// maxRetentionMs is the largest retention.ms a time.Duration holds (about
// 292 years). Larger values (Long.MAX_VALUE is a common "forever") are kept
// as the longest Duration, with the exact value remembered in Config so it
// is reported back as set.
const maxRetentionMs = math.MaxInt64 / int64(time.Millisecond)

// retentionMsOf returns st's retention as Kafka's retention.ms.
func retentionMsOf(st *store.Stream) int64 {
	switch {
	case st.Retention <= 0:
		return -1
	case st.Retention == time.Duration(math.MaxInt64):
		if n, err := strconv.ParseInt(st.Config[cfgRetentionMs], 10, 64); err == nil && n > maxRetentionMs {
			return n
		}
	}
	return st.Retention.Milliseconds()
}

// retentionFromMs converts retention.ms to a store retention. The store reads
// zero as "forever", so Kafka's retention.ms=0 (delete everything at once)
// becomes one nanosecond, which reads back as 0 ms.
func retentionFromMs(ms int64) time.Duration {
	switch {
	case ms < 0:
		return 0
	case ms == 0:
		return 1
	case ms > maxRetentionMs:
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(ms) * time.Millisecond
}

// topicOverrides returns the explicitly set (non-default) Kafka configs of
// st, canonical values keyed by Kafka name.
func topicOverrides(st *store.Stream) map[string]string {
	o := map[string]string{}
	for _, def := range topicConfigDefs {
		if def.name == cfgRetentionMs || def.name == cfgEncryptionKey || def.readOnly {
			continue
		}
		if v, ok := st.Config[def.name]; ok {
			o[def.name] = v
		}
	}
	if st.Retention != DefaultRetention {
		o[cfgRetentionMs] = strconv.FormatInt(retentionMsOf(st), 10)
	}
	if st.Encryption.Enabled() {
		o[cfgEncryptionKey] = st.Encryption.KeyID
	}
	return o
}

// applyTopicOverrides makes o (canonical values from normalizeTopicConfig)
// the complete set of st's explicit Kafka configs: owned keys missing from o
// return to their defaults; keys other front ends own are left alone. A key
// set to its default value stays explicit (DYNAMIC_TOPIC_CONFIG), as in
// Kafka, except retention.ms: the store keeps only a duration, so a
// retention equal to the default reads back as the default.
func applyTopicOverrides(st *store.Stream, o map[string]string) {
	for _, def := range topicConfigDefs {
		delete(st.Config, def.name)
	}
	st.Retention = DefaultRetention
	st.Encryption = store.Encryption{KeyID: o[cfgEncryptionKey]}
	for name, v := range o {
		def, ok := topicConfigDefFor(name)
		if !ok || def.readOnly || name == cfgEncryptionKey {
			continue
		}
		if name == cfgRetentionMs {
			ms, _ := strconv.ParseInt(v, 10, 64)
			st.Retention = retentionFromMs(ms)
			if ms <= maxRetentionMs {
				continue // Retention says it all
			}
		}
		if st.Config == nil {
			st.Config = map[string]string{}
		}
		st.Config[name] = v
	}
	st.RetentionBytes = 0
	if n, err := strconv.ParseInt(st.Config[cfgRetentionBytes], 10, 64); err == nil && n > 0 {
		st.RetentionBytes = n
	}
	st.Compaction = compactionOf(st)
}

// normalizeTopicConfigs validates a whole config set (CreateTopics,
// AlterConfigs) and returns it canonical, later duplicates winning as in
// Kafka's Properties. Read-only keys pass validation but are not kept.
func normalizeTopicConfigs(entries []topicConfigEntry) (map[string]string, *kafkaError) {
	o := map[string]string{}
	for _, e := range entries {
		v, aerr := normalizeTopicConfig(e.name, e.value)
		if aerr != nil {
			return nil, aerr
		}
		if def, _ := topicConfigDefFor(e.name); !def.readOnly {
			o[e.name] = v
		}
	}
	return o, nil
}

// topicConfigEntry is one name and value of a request, whichever API sent it.
type topicConfigEntry struct {
	name  string
	value *string
}

// configValue is one config as DescribeConfigs and CreateTopics v5+ report it.
type configValue struct {
	name     string
	value    string
	source   kmsg.ConfigSource // DEFAULT_CONFIG or DYNAMIC_TOPIC_CONFIG (STATIC_BROKER_CONFIG for brokers)
	readOnly bool
	typ      kmsg.ConfigType
	doc      string
	synonym  string // broker-level config this one defaults from; "" for none
	dflt     string // the synonym's value
}

// topicConfigValues lists every topic config of st, in topicConfigDefs
// order, with its effective value and where it comes from.
func topicConfigValues(st *store.Stream) []configValue {
	o := topicOverrides(st)
	out := make([]configValue, 0, len(topicConfigDefs))
	for _, def := range topicConfigDefs {
		cv := configValue{
			name: def.name, value: topicConfigDefault(def.name), source: kmsg.ConfigSourceDefaultConfig,
			readOnly: def.readOnly, typ: def.typ, doc: def.doc,
			synonym: def.synonym, dflt: topicConfigDefault(def.name),
		}
		if v, ok := o[def.name]; ok {
			cv.value, cv.source = v, kmsg.ConfigSourceDynamicTopicConfig
		}
		out = append(out, cv)
	}
	return out
}
