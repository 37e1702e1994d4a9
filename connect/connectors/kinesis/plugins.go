package kinesis

import (
	"fmt"
	"strings"
	"time"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/connectors/awsconf"
)

// The connectors' class names.
const (
	SourceClass = "io.streambridge.connect.kinesis.KinesisSourceConnector"
	SinkClass   = "io.streambridge.connect.kinesis.KinesisSinkConnector"
)

// version is the connectors' version in GET /connector-plugins.
const version = "1.0.0"

// Plugins returns the Kinesis source and sink connectors.
func Plugins() []connect.Plugin {
	return []connect.Plugin{
		{Class: SourceClass, Type: connect.PluginSource, Version: version, Config: SourceDef(),
			Doc:       "Copies Kinesis data stream records into a Kafka topic, parent shards before child shards, KPL aggregates de-aggregated.",
			NewSource: func() connect.SourceConnector { return &SourceConnector{} }},
		{Class: SinkClass, Type: connect.PluginSink, Version: version, Config: SinkDef(),
			Doc:     "Writes Kafka records to a Kinesis data stream with PutRecords, retrying only the entries Kinesis refused.",
			NewSink: func() connect.SinkConnector { return &SinkConnector{} }},
	}
}

// The settings' names.
const (
	StreamConfig          = "kinesis.stream"
	TopicConfig           = "topic"
	PositionConfig        = "kinesis.position"
	PositionTimeConfig    = "kinesis.position.timestamp"
	PollIntervalConfig    = "kinesis.poll.interval.ms"
	RecordsLimitConfig    = "kinesis.records.limit"
	KafkaPartitionConfig  = "kafka.partition"
	DiscoveryConfig       = "kinesis.shard.discovery.interval.ms"
	DeaggregateConfig     = "kinesis.deaggregate"
	HeadersConfig         = "kinesis.headers.enable"
	PartitionKeyConfig    = "kinesis.partition.key"
	ExplicitHashKeyConfig = "kinesis.explicit.hash.key"
	BatchRecordsConfig    = "kinesis.batch.max.records"
	BatchBytesConfig      = "kinesis.batch.max.bytes"
	PutRetriesConfig      = "kinesis.put.retries"
	PutBackoffConfig      = "kinesis.put.retry.backoff.ms"
	CBORConfig            = "kinesis.cbor"
	ConsumerTypeConfig    = "kinesis.consumer.type"
	ConsumerNameConfig    = "kinesis.efo.consumer.name"
	// shardsConfig is the task configuration's list of shards (internal:
	// written by the source connector, read by its tasks).
	shardsConfig = "kinesis.task.shards"
)

// Kinesis's own limits.
const (
	maxBatchRecords = 500
	maxBatchBytes   = 5 << 20
	maxRecordBytes  = 1 << 20 // data and partition key together
	maxRecordsLimit = 10000
	// defaultRecordsLimit keeps a GetRecords answer near 1 MB for 1 KiB
	// records: the SDK reads a body into a doubling buffer and decodes its
	// base64, so ten 1 MB answers copy a stream several times faster than one
	// of 10 MB (bridge bench connect: 77 against 12 MB/s).
	defaultRecordsLimit = 1000
	defaultPollMs       = 1000
	defaultDiscovery    = 30000
)

// The positions a shard without a stored offset starts from.
const (
	positionTrimHorizon = "TRIM_HORIZON"
	positionLatest      = "LATEST"
	positionAtTimestamp = "AT_TIMESTAMP"
)

// SourceDef describes the source connector's settings.
func SourceDef() connect.ConfigDef {
	def := connect.ConfigDef{
		{Name: StreamConfig, Type: connect.ConfigString, Required: true, Importance: connect.High, Group: "Kinesis",
			Doc: "The Kinesis data stream to read.", Check: connect.NonEmpty},
		{Name: TopicConfig, Type: connect.ConfigString, Required: true, Importance: connect.High, Group: "Kafka",
			Doc: "The Kafka topic the records are written to.", Check: connect.NonEmpty},
		{Name: PositionConfig, Type: connect.ConfigString, Default: positionTrimHorizon, Importance: connect.Medium, Group: "Kinesis",
			Doc:         "Where a shard without a stored offset is read from: TRIM_HORIZON (its oldest record), LATEST (records put from now on) or AT_TIMESTAMP (" + PositionTimeConfig + "). Under LATEST a child of a shard the connector reads starts at TRIM_HORIZON, and shards closed before the connector started are skipped.",
			Recommended: []string{positionTrimHorizon, positionLatest, positionAtTimestamp}},
		{Name: PositionTimeConfig, Type: connect.ConfigString, Importance: connect.Medium, Group: "Kinesis",
			Doc: "The timestamp of AT_TIMESTAMP: RFC 3339 (2024-05-01T10:00:00Z) or milliseconds since the epoch.", Check: checkTimestamp},
		{Name: PollIntervalConfig, Type: connect.ConfigLong, Default: fmt.Sprint(defaultPollMs), Importance: connect.Medium, Group: "Kinesis",
			Doc: "How long a shard that is caught up waits before its next GetRecords. A shard that is behind is read again at once.", Check: connect.AtLeast(0)},
		{Name: RecordsLimitConfig, Type: connect.ConfigInt, Default: fmt.Sprint(defaultRecordsLimit), Importance: connect.Low, Group: "Kinesis",
			Doc: "GetRecords' Limit: the most records one call returns.", Check: connect.Between(1, maxRecordsLimit)},
		{Name: KafkaPartitionConfig, Type: connect.ConfigString, Default: "key", Importance: connect.Medium, Group: "Kafka",
			Doc:         "key: the producer's partitioner picks the partition from the record key (the partition key); preserve: the record goes to the partition numbered like its shard (shardId-000000000003 to partition 3; the topic needs enough partitions).",
			Recommended: []string{"key", "preserve"}},
		{Name: DiscoveryConfig, Type: connect.ConfigLong, Default: fmt.Sprint(defaultDiscovery), Importance: connect.Low, Group: "Kinesis",
			Doc: "How often the connector lists the stream's shards to notice resharding.", Check: connect.AtLeast(1)},
		{Name: DeaggregateConfig, Type: connect.ConfigBoolean, Default: "true", Importance: connect.Medium, Group: "Kinesis",
			Doc: "Unpack KPL aggregated records into their user records."},
		{Name: HeadersConfig, Type: connect.ConfigBoolean, Default: "false", Importance: connect.Low, Group: "Kafka",
			Doc: "Add the headers kinesis.shard, kinesis.sequence (and kinesis.subsequence for a user record of a KPL aggregate) to every record."},
		{Name: ConsumerTypeConfig, Type: connect.ConfigString, Default: consumerPolling, Importance: connect.Medium, Group: "Kinesis",
			Doc:         "How shards are read: POLLING (GetRecords, the shard's shared 2 MB/s) or EFO (enhanced fan-out: a registered stream consumer and SubscribeToShard, 2 MB/s per shard of its own, records pushed as they arrive). Both store the same offsets, so a connector switched from one to the other resumes where it was.",
			Recommended: []string{consumerPolling, consumerEFO}},
		{Name: ResolvePointersConfig, Type: connect.ConfigBoolean, Default: "false", Importance: connect.Low, Group: "Kinesis",
			Doc: "Replace a record whose data is a PayloadS3Pointer (the AWS extended clients' [\"software.amazon.payloadoffloading.PayloadS3Pointer\",{...}], as the Kinesis sink writes for records it offloads) by the object it names, read with the same AWS settings. A pointer whose object is gone is copied as it is. Off by default: a Kinesis record carries no mark besides its data, and the object is read with the connector's credentials."},
		{Name: ConsumerNameConfig, Type: connect.ConfigString, Importance: connect.Medium, Group: "Kinesis",
			Doc:   "EFO: the stream consumer's name, registered when it does not exist (and never deregistered by the connector); empty for the connector's name. 1 to 128 of a-z, A-Z, 0-9, _ . -",
			Check: checkConsumerName},
	}
	return append(append(def, cborDef), awsconf.Def...)
}

// cborDef is the setting both connectors share.
var cborDef = connect.ConfigKey{Name: CBORConfig, Type: connect.ConfigBoolean, Default: "true", Importance: connect.Low, Group: "Kinesis",
	Doc: "Read with GetRecords in CBOR (application/x-amz-cbor-1.1), as the Java SDK and KCL do: record data travels as bytes rather than base64 text, which the source decodes several times faster. AWS, the bridge, kinesalite and LocalStack speak it; false for JSON. PutRecords is always JSON."}

// SinkDef describes the sink connector's settings.
func SinkDef() connect.ConfigDef {
	def := connect.ConfigDef{
		{Name: StreamConfig, Type: connect.ConfigString, Required: true, Importance: connect.High, Group: "Kinesis",
			Doc: "The Kinesis data stream to write.", Check: connect.NonEmpty},
		{Name: PartitionKeyConfig, Type: connect.ConfigString, Default: "key", Importance: connect.High, Group: "Kinesis",
			Doc:   "key: the Kafka key as text (null and empty keys become kafka-null-key and kafka-empty-key, keys that are not UTF-8 or longer than 256 characters kafka-key-md5-<hex MD5>); field:NAME: that field of a struct or map value, the same way; random: a random key per record.",
			Check: checkPartitionKey},
		{Name: ExplicitHashKeyConfig, Type: connect.ConfigString, Default: "none", Importance: connect.Medium, Group: "Kinesis",
			Doc:         "none: Kinesis routes by the partition key's MD5; partition: Kafka partition P is sent to the starting hash key of the stream's open shard P mod N (shards ordered by hash range), so each Kafka partition stays on one shard.",
			Recommended: []string{"none", "partition"}},
		{Name: BatchRecordsConfig, Type: connect.ConfigInt, Default: fmt.Sprint(maxBatchRecords), Importance: connect.Low, Group: "Kinesis",
			Doc: "The most records in one PutRecords call.", Check: connect.Between(1, maxBatchRecords)},
		{Name: BatchBytesConfig, Type: connect.ConfigInt, Default: fmt.Sprint(maxBatchBytes), Importance: connect.Low, Group: "Kinesis",
			Doc: "The most bytes (data and partition keys) in one PutRecords call.", Check: connect.Between(maxRecordBytes, maxBatchBytes)},
		{Name: PutRetriesConfig, Type: connect.ConfigInt, Default: "10", Importance: connect.Low, Group: "Kinesis",
			Doc: "How many times entries Kinesis refused (throttling, internal failures) or a failed call are sent again before Put fails retriably.", Check: connect.AtLeast(0)},
		{Name: PutBackoffConfig, Type: connect.ConfigLong, Default: "100", Importance: connect.Low, Group: "Kinesis",
			Doc: "The first wait before a retry; it doubles on each retry up to 10 seconds.", Check: connect.AtLeast(0)},
	}
	def = append(def, offloadDef()...)
	return append(def, awsconf.Def...)
}

func checkPartitionKey(v any) error {
	s := v.(string)
	if s == "key" || s == "random" {
		return nil
	}
	if name, ok := strings.CutPrefix(s, "field:"); ok && name != "" {
		return nil
	}
	return fmt.Errorf("must be key, random or field:NAME")
}

func checkConsumerName(v any) error {
	if s := v.(string); s != "" && !consumerNamePattern.MatchString(s) {
		return fmt.Errorf("must be 1 to 128 of a-z, A-Z, 0-9, _ . -")
	}
	return nil
}

func checkTimestamp(v any) error {
	if s := v.(string); s != "" {
		if _, err := parseTimestamp(s); err != nil {
			return err
		}
	}
	return nil
}

// parseTimestamp reads RFC 3339 or milliseconds since the epoch.
func parseTimestamp(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	var ms int64
	if _, err := fmt.Sscan(s, &ms); err == nil && fmt.Sprint(ms) == strings.TrimSpace(s) {
		return time.UnixMilli(ms), nil
	}
	return time.Time{}, fmt.Errorf("not an RFC 3339 time or milliseconds since the epoch")
}

// parse checks cfg against def and returns the values or one error naming
// every problem, for Start (the REST API refused bad configurations before).
func parse(def connect.ConfigDef, cfg connect.Config) (connect.Values, error) {
	vals, errs := def.Parse(cfg)
	if len(errs) == 0 {
		return vals, nil
	}
	var msgs []string
	for _, k := range def {
		msgs = append(msgs, errs[k.Name]...)
	}
	return vals, fmt.Errorf("invalid configuration: %s", strings.Join(msgs, "; "))
}
