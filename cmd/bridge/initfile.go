package main

// --init-file: topics, streams, queues and buckets declared in a YAML file
// and made to exist at start, before /readyz says ready and before the
// Kafka and AWS ports serve anyone, so a container's healthcheck-gated
// clients always find their fixtures (README, "Fixtures at start").
//
// This file is the format and its loading: strict YAML (a key the format
// does not have is an error naming file and line) and the checks that need
// no store (duplicate names, a name declared in two sections). Everything
// else is left to the front ends' own code paths (initfile_apply.go), so a
// bad entry is refused with the words the protocol API would use.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// fixtures is an --init-file.
type fixtures struct {
	Kafka   kafkaSection   `yaml:"kafka"`
	Kinesis kinesisSection `yaml:"kinesis"`
	SQS     sqsSection     `yaml:"sqs"`
	S3      s3Section      `yaml:"s3"`

	path  string
	lines map[string]int // "kafka.topics[0]" → its line in the file
}

// The file's sections.
type (
	kafkaSection struct {
		Topics []topicFixture `yaml:"topics"`
	}
	kinesisSection struct {
		Streams []streamFixture `yaml:"streams"`
	}
	sqsSection struct {
		Queues []queueFixture `yaml:"queues"`
	}
	s3Section struct {
		Buckets []bucketFixture `yaml:"buckets"`
	}
)

// topicFixture is a Kafka topic: CreateTopics, then CreatePartitions and
// IncrementalAlterConfigs on later starts.
type topicFixture struct {
	Name              string            `yaml:"name"`
	Partitions        int               `yaml:"partitions"`         // 0: --default-partitions
	ReplicationFactor int               `yaml:"replication_factor"` // 0 or 1: one broker
	Configs           map[string]string `yaml:"configs"`
}

// streamFixture is a Kinesis stream: CreateStream, then the retention and
// tag calls.
type streamFixture struct {
	Name           string            `yaml:"name"`
	Shards         int               `yaml:"shards"`          // CreateStream's ShardCount; 0: none given
	Mode           string            `yaml:"mode"`            // PROVISIONED or ON_DEMAND; empty: as CreateStream without StreamModeDetails
	RetentionHours int               `yaml:"retention_hours"` // 0: AWS's 24
	Tags           map[string]string `yaml:"tags"`
}

// queueFixture is an SQS queue: CreateQueue, then SetQueueAttributes and
// TagQueue on later starts.
type queueFixture struct {
	Name       string            `yaml:"name"`
	Attributes map[string]string `yaml:"attributes"`
	Tags       map[string]string `yaml:"tags"`
	// DeadLetterQueue writes the RedrivePolicy attribute for a queue named
	// here rather than by ARN.
	DeadLetterQueue *deadLetterFixture `yaml:"dead_letter_queue"`
}

type deadLetterFixture struct {
	Name            string `yaml:"name"`
	MaxReceiveCount int    `yaml:"max_receive_count"`
}

// bucketFixture is an S3 bucket: CreateBucket.
type bucketFixture struct {
	Name string `yaml:"name"`
}

// Attribute names the fixtures file fills in itself.
const (
	sqsAttrRedrivePolicy = "RedrivePolicy"
	sqsAttrFifoQueue     = "FifoQueue"
)

// loadFixtures reads and checks an --init-file.
func loadFixtures(path string) (*fixtures, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--init-file: %w", err)
	}
	f, err := parseFixtures(path, b)
	if err != nil {
		return nil, fmt.Errorf("--init-file %w", err)
	}
	return f, nil
}

// yamlLine matches the "line N: " yaml.v3 starts its errors with.
var yamlLine = regexp.MustCompile(`(?m)^(?:yaml: )?(?:unmarshal errors:\n\s*)?line (\d+): `)

// typeNames words yaml.v3's Go type names for the file's reader.
var typeNames = strings.NewReplacer(
	"in type main.fixtures", "at the top level (kafka, kinesis, sqs, s3)",
	"in type main.kafkaSection", "under kafka (topics)",
	"in type main.kinesisSection", "under kinesis (streams)",
	"in type main.sqsSection", "under sqs (queues)",
	"in type main.s3Section", "under s3 (buckets)",
	"in type main.topicFixture", "in a Kafka topic (name, partitions, replication_factor, configs)",
	"in type main.streamFixture", "in a Kinesis stream (name, shards, mode, retention_hours, tags)",
	"in type main.queueFixture", "in an SQS queue (name, attributes, tags, dead_letter_queue)",
	"in type main.deadLetterFixture", "in dead_letter_queue (name, max_receive_count)",
	"in type main.bucketFixture", "in an S3 bucket (name)",
	"main.fixtures", "the top level (a mapping: kafka, kinesis, sqs, s3)",
	"main.kafkaSection", "kafka (a mapping: topics)",
	"main.kinesisSection", "kinesis (a mapping: streams)",
	"main.sqsSection", "sqs (a mapping: queues)",
	"main.s3Section", "s3 (a mapping: buckets)",
	"main.topicFixture", "a Kafka topic (a mapping)",
	"main.streamFixture", "a Kinesis stream (a mapping)",
	"main.queueFixture", "an SQS queue (a mapping)",
	"main.deadLetterFixture", "dead_letter_queue (a mapping)",
	"main.bucketFixture", "an S3 bucket (a mapping)",
)

// parseFixtures decodes b, strictly, and checks what needs no store. Its
// errors start with path (and the line, or the entry).
func parseFixtures(path string, b []byte) (*fixtures, error) {
	f := &fixtures{path: path, lines: map[string]int{}}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(f); err != nil && !errors.Is(err, io.EOF) {
		msg := typeNames.Replace(strings.TrimSpace(err.Error()))
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			rest := strings.TrimSpace(yamlLine.ReplaceAllString(msg, path+":$1: "))
			return nil, errors.New(rest)
		}
		return nil, fmt.Errorf("%s: %s", path, msg)
	}
	var more yaml.Node
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: one YAML document expected; this file has more", path)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err == nil && len(doc.Content) == 1 {
		f.recordLines(doc.Content[0])
	}
	if err := f.check(); err != nil {
		return nil, err
	}
	return f, nil
}

// recordLines notes the line of every entry, for errors found later.
func (f *fixtures) recordLines(root *yaml.Node) {
	for i := 0; i+1 < len(root.Content); i += 2 {
		section, body := root.Content[i].Value, root.Content[i+1]
		for j := 0; j+1 < len(body.Content); j += 2 {
			list, items := body.Content[j].Value, body.Content[j+1]
			for k, item := range items.Content {
				f.lines[fmt.Sprintf("%s.%s[%d]", section, list, k)] = item.Line
			}
		}
	}
}

// entry names one entry in errors: the file, its line, its place and its
// name, as `fixtures.yaml:7: sqs.queues[1] "jobs.fifo"`.
func (f *fixtures) entry(place, name string) string {
	if line, ok := f.lines[place]; ok {
		return fmt.Sprintf("%s:%d: %s %q", f.path, line, place, name)
	}
	return fmt.Sprintf("%s: %s %q", f.path, place, name)
}

// entryError is a refusal of one entry.
func (f *fixtures) entryError(place, name string, err error) error {
	return fmt.Errorf("%s: %w", f.entry(place, name), err)
}

// check finds what no single API call would: a name declared twice, in
// one section or in two of those that share the store's namespace (a
// Kafka topic, a Kinesis stream and an SQS queue are all streams), and
// dead-letter settings given twice.
func (f *fixtures) check() error {
	var errs []error
	streams := map[string]string{} // name → first place declaring it
	claim := func(place, name string) {
		if name == "" {
			errs = append(errs, f.entryError(place, name, errors.New("name is required")))
			return
		}
		if first, ok := streams[name]; ok {
			why := ""
			if strings.SplitN(first, ".", 2)[0] != strings.SplitN(place, ".", 2)[0] {
				why = " (Kafka topics, Kinesis streams and SQS queues are all streams of one namespace)"
			}
			errs = append(errs, f.entryError(place, name, fmt.Errorf("already declared as %s%s", first, why)))
			return
		}
		streams[name] = place
	}
	for i, t := range f.Kafka.Topics {
		claim(fmt.Sprintf("kafka.topics[%d]", i), t.Name)
	}
	for i, s := range f.Kinesis.Streams {
		claim(fmt.Sprintf("kinesis.streams[%d]", i), s.Name)
	}
	for i, q := range f.SQS.Queues {
		place := fmt.Sprintf("sqs.queues[%d]", i)
		claim(place, q.Name)
		if d := q.DeadLetterQueue; d != nil {
			if _, ok := q.Attributes[sqsAttrRedrivePolicy]; ok {
				errs = append(errs, f.entryError(place, q.Name, errors.New("both dead_letter_queue and attributes.RedrivePolicy are set; give one")))
			}
			if d.Name == "" {
				errs = append(errs, f.entryError(place, q.Name, errors.New("dead_letter_queue.name is required")))
			}
		}
	}
	buckets := map[string]string{}
	for i, b := range f.S3.Buckets {
		place := fmt.Sprintf("s3.buckets[%d]", i)
		if b.Name == "" {
			errs = append(errs, f.entryError(place, b.Name, errors.New("name is required")))
			continue
		}
		if first, ok := buckets[b.Name]; ok {
			errs = append(errs, f.entryError(place, b.Name, fmt.Errorf("already declared as %s", first)))
			continue
		}
		buckets[b.Name] = place
	}
	return errors.Join(errs...)
}

// count is how many entries the file declares.
func (f *fixtures) count() int {
	return len(f.Kafka.Topics) + len(f.Kinesis.Streams) + len(f.SQS.Queues) + len(f.S3.Buckets)
}
