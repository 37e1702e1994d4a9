// Package kafka holds the connectors that copy between the worker's Kafka
// cluster and another one (Amazon MSK, a self-managed cluster, another
// bridge): KafkaSourceConnector reads a remote cluster into the worker's,
// KafkaSinkConnector writes the worker's topics to a remote cluster. Records
// are copied as they are: keys and values as bytes (use the default
// ByteArrayConverter), headers and timestamps kept, partitions preserved or
// chosen again from the key.
//
// The source also writes offset syncs, MirrorMaker 2's idea: records in
// offset.syncs.topic that pair an upstream offset with the offset its copy
// got downstream, from which a consumer group's position upstream can be
// translated to the copy (see OffsetSync).
package kafka

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/kafkaclient"
)

// The connectors' class names.
const (
	SourceClass = "io.streambridge.connect.kafka.KafkaSourceConnector"
	SinkClass   = "io.streambridge.connect.kafka.KafkaSinkConnector"
)

// Plugins lists the connectors of this package.
func Plugins() []connect.Plugin {
	return []connect.Plugin{
		{Class: SourceClass, Type: connect.PluginSource, Version: version, Config: sourceDef,
			Doc:       "Copies topics of another Kafka cluster (MSK) into the worker's cluster, with offset syncs.",
			NewSource: func() connect.SourceConnector { return &sourceConnector{} }},
		{Class: SinkClass, Type: connect.PluginSink, Version: version, Config: sinkDef,
			Doc:     "Copies the worker's topics to another Kafka cluster (MSK).",
			NewSink: func() connect.SinkConnector { return &sinkConnector{} }},
	}
}

const version = "1.0.0"

// Settings both connectors share.
const (
	topicRenameFormat = "topic.rename.format"
	partitionPreserve = "partition.preserve"
)

var renameDef = connect.ConfigDef{
	{Name: topicRenameFormat, Type: connect.ConfigString, Default: "${topic}", Importance: connect.Medium,
		Doc: "The target topic's name; ${topic} is the source topic's.", Check: connect.NonEmpty},
	{Name: partitionPreserve, Type: connect.ConfigBoolean, Default: "true", Importance: connect.Medium,
		Doc: "Write each record to the partition of the same number (the target topic needs as many); false lets the producer choose from the key."},
}

func rename(format, topic string) string { return strings.ReplaceAll(format, "${topic}", topic) }

func checkRegexes(v any) error {
	for _, re := range v.([]string) {
		if _, err := regexp.Compile(re); err != nil {
			return fmt.Errorf("not a regular expression: %v", err)
		}
	}
	return nil
}

// matcher selects topics by MirrorMaker 2's rules: a topic is copied when it
// matches one of include and none of exclude (whole-name matches).
type matcher struct{ include, exclude []*regexp.Regexp }

func newMatcher(include, exclude []string) (matcher, error) {
	var m matcher
	for _, re := range include {
		r, err := regexp.Compile("^(?:" + re + ")$")
		if err != nil {
			return m, err
		}
		m.include = append(m.include, r)
	}
	for _, re := range exclude {
		r, err := regexp.Compile("^(?:" + re + ")$")
		if err != nil {
			return m, err
		}
		m.exclude = append(m.exclude, r)
	}
	return m, nil
}

func (m matcher) match(topic string) bool {
	for _, r := range m.exclude {
		if r.MatchString(topic) {
			return false
		}
	}
	for _, r := range m.include {
		if r.MatchString(topic) {
			return true
		}
	}
	return false
}

// The prefixes of the remote cluster's settings: its bootstrap servers and
// its clients' security settings (source.security.protocol,
// target.sasl.jaas.config, ...), read by connect/kafkaclient.
const (
	sourcePrefix = "source."
	targetPrefix = "target."
)

// clientOpts are the options of a client of the remote cluster: its seed
// brokers and its security settings under prefix.
func clientOpts(cfg connect.Config, servers []string, prefix string) ([]kgo.Opt, error) {
	sec, err := kafkaclient.Options(kafkaclient.Prefixed(cfg, prefix))
	if err != nil {
		return nil, err
	}
	return append([]kgo.Opt{kgo.SeedBrokers(servers...)}, sec...), nil
}
