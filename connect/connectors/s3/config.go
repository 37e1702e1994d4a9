package s3

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // timezone names without the system's zoneinfo (the image is FROM scratch)

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/connectors/awsconf"
)

// Class is the connector's class name.
const Class = "io.streambridge.connect.s3.S3SinkConnector"

// Version is the version the connector reports.
const Version = "1.0.0"

// The settings.
const (
	Bucket                   = "s3.bucket.name"
	TopicsDir                = "topics.dir"
	FlushSize                = "flush.size"
	RotateInterval           = "rotate.interval.ms"
	RotateScheduleInterval   = "rotate.schedule.interval.ms"
	PartSize                 = "s3.part.size"
	ObjectMaxBytes           = "s3.object.max.bytes"
	PathStyle                = "s3.path.style.access.enabled"
	Format                   = "format"
	ByteArraySeparator       = "format.bytearray.separator"
	ByteArrayExtension       = "format.bytearray.extension"
	Compression              = "compression"
	Partitioner              = "partitioner"
	PathFormat               = "path.format"
	PartitionDuration        = "partition.duration.ms"
	TimestampExtractor       = "timestamp.extractor"
	Timezone                 = "timezone"
	PartitionFieldName       = "partition.field.name"
	BehaviorOnNullValues     = "behavior.on.null.values"
	defaultPartSize          = 25 << 20
	minPartSize              = 5 << 20
	maxPartSize              = 5 << 30
	metaRotationStart        = "kafka-rotation-start"
	groupS3, groupPartition  = "S3", "Partitioner"
	groupFormat, groupRotate = "Format", "Rotation"
)

// Def describes the connector's settings.
var Def = append(connect.ConfigDef{
	{Name: Bucket, Type: connect.ConfigString, Required: true, Importance: connect.High, Group: groupS3, DisplayName: "S3 Bucket",
		Doc: "The S3 bucket the objects are written to.", Check: connect.NonEmpty},
	{Name: TopicsDir, Type: connect.ConfigString, Default: "topics", Importance: connect.High, Group: groupS3, DisplayName: "Topics directory",
		Doc: "Top level prefix of the object keys; empty for none."},
	{Name: PartSize, Type: connect.ConfigInt, Default: fmt.Sprint(defaultPartSize), Importance: connect.High, Group: groupS3, DisplayName: "S3 Part Size",
		Doc: "The part size of multipart uploads; an object larger than this is uploaded in parts while it is written.", Check: connect.Between(minPartSize, maxPartSize-1)},
	{Name: PathStyle, Type: connect.ConfigBoolean, Default: "true", Importance: connect.Low, Group: groupS3,
		Doc: "Path-style addressing (endpoint/bucket/key), which emulators and the bridge need; false for virtual-host style."},
	{Name: FlushSize, Type: connect.ConfigInt, Required: true, Importance: connect.High, Group: groupRotate, DisplayName: "Flush Size",
		Doc: "Number of records written to a Kafka partition's files before they are finished as objects.", Check: connect.AtLeast(1)},
	{Name: RotateInterval, Type: connect.ConfigLong, Default: "-1", Importance: connect.High, Group: groupRotate, DisplayName: "Rotate Interval (ms)",
		Doc: "Finish a partition's files when a record's timestamp (timestamp.extractor) is this many ms past the first record of the files; -1 disables.", Check: notZero},
	{Name: RotateScheduleInterval, Type: connect.ConfigLong, Default: "-1", Importance: connect.Medium, Group: groupRotate, DisplayName: "Scheduled Rotation Interval (ms)",
		Doc: "Finish open files on the wall clock, at multiples of this many ms; -1 disables. Not deterministic: a restart may cut objects differently.", Check: notZero},
	{Name: ObjectMaxBytes, Type: connect.ConfigLong, Default: "-1", Importance: connect.Medium, Group: groupRotate, DisplayName: "Maximum object size",
		Doc: "Finish a partition's files once one has this many bytes (before compression); -1 disables.", Check: notZero},
	{Name: Format, Type: connect.ConfigString, Default: "json", Importance: connect.High, Group: groupFormat, DisplayName: "Format",
		Doc: "json: one JSON value a line (Kafka's JsonConverter without schemas); bytes: the raw value bytes, separated by " + ByteArraySeparator + ".", Recommended: []string{"json", "bytes"}},
	{Name: ByteArraySeparator, Type: connect.ConfigString, Default: "\n", Importance: connect.Low, Group: groupFormat,
		Doc: "The bytes written after each record by the bytes format."},
	{Name: ByteArrayExtension, Type: connect.ConfigString, Default: ".bin", Importance: connect.Low, Group: groupFormat,
		Doc: "The file extension of the bytes format."},
	{Name: Compression, Type: connect.ConfigString, Default: "none", Importance: connect.Low, Group: groupFormat, DisplayName: "Compression type",
		Doc: "none, or gzip (objects then end in .gz).", Recommended: []string{"none", "gzip"}},
	{Name: BehaviorOnNullValues, Type: connect.ConfigString, Default: "fail", Importance: connect.Low, Group: groupFormat,
		Doc: "fail: a null value is an error (reported to errors.tolerance); ignore: it is skipped.", Recommended: []string{"fail", "ignore"}},
	{Name: Partitioner, Type: connect.ConfigString, Default: "default", Importance: connect.High, Group: groupPartition, DisplayName: "Partitioner",
		Doc: "default: partition=N; time: path.format of the record's time; field: the values of partition.field.name.", Recommended: []string{"default", "time", "field"}},
	{Name: PathFormat, Type: connect.ConfigString, Importance: connect.Medium, Group: groupPartition, DisplayName: "Path Format",
		Doc: "The time partitioner's path, a Joda-Time pattern: 'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH."},
	{Name: PartitionDuration, Type: connect.ConfigLong, Default: "-1", Importance: connect.Medium, Group: groupPartition, DisplayName: "Partition Duration (ms)",
		Doc: "The time partitioner rounds times down to a multiple of this many ms before formatting; -1 does not round."},
	{Name: TimestampExtractor, Type: connect.ConfigString, Default: "Wallclock", Importance: connect.Medium, Group: groupPartition, DisplayName: "Timestamp Extractor",
		Doc: "The time of a record for the time partitioner and rotate.interval.ms: Record (its Kafka timestamp) or Wallclock (now).", Recommended: []string{"Record", "Wallclock"}},
	{Name: Timezone, Type: connect.ConfigString, Default: "UTC", Importance: connect.Medium, Group: groupPartition, DisplayName: "Timezone",
		Doc: "The timezone path.format formats in (an IANA name).", Check: checkTimezone},
	{Name: PartitionFieldName, Type: connect.ConfigList, Importance: connect.Medium, Group: groupPartition, DisplayName: "Partition Field Name",
		Doc: "The field partitioner's value fields, each giving a name=value path segment."},
}, awsconf.Def...)

func notZero(v any) error {
	if v.(int64) == 0 || v.(int64) < -1 {
		//lint:ignore ST1005 Kafka's capitalised wording, after "Invalid value V for configuration N: "
		return fmt.Errorf("Value must be -1 or positive")
	}
	return nil
}

func checkTimezone(v any) error {
	if _, err := time.LoadLocation(v.(string)); err != nil {
		return fmt.Errorf("unknown timezone")
	}
	return nil
}

// validate holds the rules across settings.
func validate(cfg connect.Config) map[string][]string {
	errs := map[string][]string{}
	switch strings.TrimSpace(cfg[Partitioner]) {
	case "time":
		if strings.TrimSpace(cfg[PathFormat]) == "" {
			errs[PathFormat] = append(errs[PathFormat], "Path format cannot be empty with the time partitioner.")
		} else if _, err := parsePathFormat(cfg[PathFormat]); err != nil {
			errs[PathFormat] = append(errs[PathFormat], fmt.Sprintf("Invalid value %s for configuration %s: %v", cfg[PathFormat], PathFormat, err))
		}
	case "field":
		if strings.TrimSpace(strings.ReplaceAll(cfg[PartitionFieldName], ",", "")) == "" {
			errs[PartitionFieldName] = append(errs[PartitionFieldName], "Partition field name cannot be empty with the field partitioner.")
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// settings are the parsed configuration of a task.
type settings struct {
	vals       connect.Values
	bucket     string
	topicsDir  string
	flushSize  int
	rotate     time.Duration // ≤ 0: off
	schedule   time.Duration // ≤ 0: off
	maxBytes   int64         // ≤ 0: off
	partSize   int
	format     valueFormat
	gzip       bool
	ext        string
	ignoreNull bool
	part       partitioner
	wallclock  bool
}

func parse(cfg connect.Config) (*settings, error) {
	vals, errs := Def.Parse(cfg)
	for k, v := range validate(cfg) {
		if errs == nil {
			errs = map[string][]string{}
		}
		errs[k] = append(errs[k], v...)
	}
	if len(errs) > 0 {
		var msgs []string
		for _, k := range slices.Sorted(maps.Keys(errs)) {
			msgs = append(msgs, errs[k]...)
		}
		return nil, fmt.Errorf("invalid configuration: %s", strings.Join(msgs, "; "))
	}
	s := &settings{
		vals:       vals,
		bucket:     vals.String(Bucket),
		topicsDir:  strings.Trim(vals.String(TopicsDir), "/"),
		flushSize:  vals.Int(FlushSize),
		rotate:     vals.Millis(RotateInterval),
		schedule:   vals.Millis(RotateScheduleInterval),
		maxBytes:   vals.Long(ObjectMaxBytes),
		partSize:   vals.Int(PartSize),
		gzip:       vals.String(Compression) == "gzip",
		ignoreNull: vals.String(BehaviorOnNullValues) == "ignore",
		wallclock:  strings.EqualFold(vals.String(TimestampExtractor), "Wallclock"),
	}
	switch vals.String(Format) {
	case "bytes":
		s.format = bytesFormat{sep: []byte(vals.String(ByteArraySeparator))}
		s.ext = vals.String(ByteArrayExtension)
	default:
		s.format = jsonFormat{}
		s.ext = ".json"
	}
	if s.gzip {
		s.ext += ".gz"
	}
	loc, _ := time.LoadLocation(vals.String(Timezone))
	switch vals.String(Partitioner) {
	case "time":
		pf, _ := parsePathFormat(vals.String(PathFormat))
		s.part = timePartitioner{format: pf, loc: loc, duration: vals.Millis(PartitionDuration)}
	case "field":
		s.part = fieldPartitioner{fields: vals.List(PartitionFieldName)}
	default:
		s.part = defaultPartitioner{}
	}
	return s, nil
}

// Plugins returns the S3 sink.
func Plugins() []connect.Plugin {
	return []connect.Plugin{{Class: Class, Type: connect.PluginSink, Version: Version, Config: Def,
		Doc:     "Writes Kafka records to S3 objects (JSON lines or bytes, gzip, time and field partitioning) with exactly-once object names.",
		NewSink: func() connect.SinkConnector { return &Connector{} }}}
}

// Connector is S3SinkConnector: up to tasks.max tasks with the same
// configuration; the runtime shares the partitions among them.
type Connector struct{ cfg connect.Config }

// Start keeps the configuration after checking it.
func (c *Connector) Start(_ context.Context, _ connect.ConnectorContext, cfg connect.Config) error {
	if _, err := parse(cfg); err != nil {
		return err
	}
	c.cfg = maps.Clone(cfg)
	return nil
}

// TaskConfigs returns one copy of the configuration per task.
func (c *Connector) TaskConfigs(maxTasks int) ([]connect.Config, error) {
	out := make([]connect.Config, max(maxTasks, 1))
	for i := range out {
		out[i] = maps.Clone(c.cfg)
	}
	return out, nil
}

// Stop does nothing: the connector holds no resources.
func (c *Connector) Stop() error { return nil }

// Validate implements connect.ConnectorValidator.
func (c *Connector) Validate(cfg connect.Config) map[string][]string { return validate(cfg) }

// NewTask implements connect.SinkConnector.
func (c *Connector) NewTask() connect.SinkTask { return &Task{} }

var (
	_ connect.SinkConnector      = (*Connector)(nil)
	_ connect.ConnectorValidator = (*Connector)(nil)
	_ connect.SinkTask           = (*Task)(nil)
)
