package file

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/internal/buildinfo"
)

// The connector classes.
const (
	FileStreamSourceClass = "org.apache.kafka.connect.file.FileStreamSourceConnector"
	FileStreamSinkClass   = "org.apache.kafka.connect.file.FileStreamSinkConnector"
	TailSourceClass       = "io.streambridge.connect.file.TailSourceConnector"
)

// Kafka's FileStream settings.
const (
	FileConfig      = "file"
	TopicConfig     = "topic"
	BatchSizeConfig = "batch.size"
)

// TailSourceConnector's own settings (it also has topic and batch.size).
const (
	FilePatternConfig     = "file.pattern"
	MultilineStartConfig  = "multiline.start.pattern"
	InitialPositionConfig = "initial.position"
	PollIntervalConfig    = "poll.interval.ms"
	MaxLineBytesConfig    = "max.line.bytes"
)

// The initial positions of a tail without a checkpoint.
const (
	StartOfFile = "START_OF_FILE"
	EndOfFile   = "END_OF_FILE"
)

// sourceDef is FileStreamSourceConnector's ConfigDef, word for word.
var sourceDef = connect.ConfigDef{
	{Name: FileConfig, Type: connect.ConfigString, Importance: connect.High,
		Doc: "Source filename. If not specified, the standard input will be used"},
	{Name: TopicConfig, Type: connect.ConfigString, Required: true, Importance: connect.High, Check: connect.NonEmpty,
		Doc: "The topic to publish data to"},
	{Name: BatchSizeConfig, Type: connect.ConfigInt, Default: "2000", Importance: connect.Low,
		Doc: "The maximum number of records the Source task can read from file one time"},
}

// sinkDef is FileStreamSinkConnector's ConfigDef.
var sinkDef = connect.ConfigDef{
	{Name: FileConfig, Type: connect.ConfigString, Importance: connect.High,
		Doc: "Destination filename. If not specified, the standard output will be used"},
}

var tailDef = connect.ConfigDef{
	{Name: FilePatternConfig, Type: connect.ConfigString, Required: true, Importance: connect.High, Check: checkGlob,
		Doc: "Glob (Go's filepath.Match syntax) matching the log file and its rotated copies, e.g. /var/log/app/app.log*. The newest matching file is tailed; older ones are followed in modification-time order after a rotation."},
	{Name: TopicConfig, Type: connect.ConfigString, Required: true, Importance: connect.High, Check: connect.NonEmpty,
		Doc: "The topic to publish data to"},
	{Name: MultilineStartConfig, Type: connect.ConfigString, Importance: connect.Medium, Check: checkRegexp,
		Doc: "Regular expression (Go RE2 syntax) the first line of a record matches; lines that do not match are joined to the record before them with \\n. Empty: every line is a record."},
	{Name: InitialPositionConfig, Type: connect.ConfigString, Default: EndOfFile, Importance: connect.Medium,
		Recommended: []string{StartOfFile, EndOfFile},
		Doc:         "Where to start in the newest matching file when no checkpoint is stored."},
	{Name: PollIntervalConfig, Type: connect.ConfigLong, Default: "1000", Importance: connect.Low, Check: connect.AtLeast(1),
		Doc: "How long to wait when the file has no new data, in milliseconds. A pending multi-line record is emitted, and a rotated file given up, after one whole interval without growth."},
	{Name: MaxLineBytesConfig, Type: connect.ConfigInt, Default: "1048576", Importance: connect.Low, Check: connect.AtLeast(1),
		Doc: "Longest record kept, in bytes; longer lines (and multi-line records) are truncated to it, and the bytes cut counted in the file.truncated.bytes header."},
	{Name: BatchSizeConfig, Type: connect.ConfigInt, Default: "2000", Importance: connect.Low, Check: connect.AtLeast(1),
		Doc: "The maximum number of records one poll returns."},
}

func checkGlob(v any) error {
	if v.(string) == "" {
		return fmt.Errorf("String must be non-empty")
	}
	if _, err := filepath.Match(v.(string), ""); err != nil {
		return fmt.Errorf("not a valid glob: %v", err)
	}
	return nil
}

func checkRegexp(v any) error {
	if _, err := regexp.Compile(v.(string)); err != nil {
		return fmt.Errorf("not a valid regular expression: %v", err)
	}
	return nil
}

// Plugins returns the file connectors.
func Plugins() []connect.Plugin {
	version := buildinfo.Read().Version
	return []connect.Plugin{
		{Class: FileStreamSourceClass, Type: connect.PluginSource, Version: version, Config: sourceDef,
			Doc:       "Reads the lines of a file (or standard input) into a topic, as Apache Kafka's FileStreamSourceConnector.",
			NewSource: func() connect.SourceConnector { return &streamSourceConnector{} }},
		{Class: FileStreamSinkClass, Type: connect.PluginSink, Version: version, Config: sinkDef,
			Doc:     "Appends each record's value as a line to a file (or standard output), as Apache Kafka's FileStreamSinkConnector.",
			NewSink: func() connect.SinkConnector { return &streamSinkConnector{} }},
		{Class: TailSourceClass, Type: connect.PluginSource, Version: version, Config: tailDef,
			Doc:       "Tails a log file through rotation by rename and truncation, with multi-line records and checkpoints, like the Kinesis Agent.",
			NewSource: func() connect.SourceConnector { return &tailConnector{} }},
	}
}

// oneTask is the Connector half every file connector shares: it keeps its
// configuration and hands it to n tasks.
type oneTask struct {
	cfg connect.Config
	def connect.ConfigDef
}

func (c *oneTask) start(cfg connect.Config) error {
	if _, errs := c.def.Parse(cfg); errs != nil {
		return configError(errs)
	}
	c.cfg = cfg
	return nil
}

func (c *oneTask) configs(n int) []connect.Config {
	out := make([]connect.Config, n)
	for i := range out {
		out[i] = c.cfg
	}
	return out
}

// configError words ConfigDef's errors as one error, for a Start that was
// handed a configuration the validate step should have refused.
func configError(errs map[string][]string) error {
	var msgs []string
	for _, list := range errs {
		msgs = append(msgs, list...)
	}
	return fmt.Errorf("invalid configuration: %s", strings.Join(msgs, "; "))
}

type streamSourceConnector struct{ oneTask }

func (c *streamSourceConnector) Start(_ context.Context, _ connect.ConnectorContext, cfg connect.Config) error {
	c.def = sourceDef
	return c.start(cfg)
}

// TaskConfigs returns one configuration: only one reader of a stream makes sense.
func (c *streamSourceConnector) TaskConfigs(int) ([]connect.Config, error) { return c.configs(1), nil }
func (c *streamSourceConnector) Stop() error                               { return nil }
func (c *streamSourceConnector) NewTask() connect.SourceTask               { return &streamSourceTask{} }

type streamSinkConnector struct{ oneTask }

func (c *streamSinkConnector) Start(_ context.Context, _ connect.ConnectorContext, cfg connect.Config) error {
	c.def = sinkDef
	return c.start(cfg)
}

// TaskConfigs returns maxTasks copies, as Kafka's does: the tasks append to
// the same file.
func (c *streamSinkConnector) TaskConfigs(n int) ([]connect.Config, error) { return c.configs(n), nil }
func (c *streamSinkConnector) Stop() error                                 { return nil }
func (c *streamSinkConnector) NewTask() connect.SinkTask                   { return &streamSinkTask{} }

type tailConnector struct{ oneTask }

func (c *tailConnector) Start(_ context.Context, _ connect.ConnectorContext, cfg connect.Config) error {
	c.def = tailDef
	return c.start(cfg)
}

// TaskConfigs returns one configuration: a file and its rotations are one
// sequence, read in order.
func (c *tailConnector) TaskConfigs(int) ([]connect.Config, error) { return c.configs(1), nil }
func (c *tailConnector) Stop() error                               { return nil }
func (c *tailConnector) NewTask() connect.SourceTask               { return &tailTask{} }
