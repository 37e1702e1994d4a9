package sqs

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/connectors/awsconf"
)

// The connectors' class names.
const (
	SourceClass = "io.streambridge.connect.sqs.SqsSourceConnector"
	SinkClass   = "io.streambridge.connect.sqs.SqsSinkConnector"
)

// Version is the version both connectors report.
const Version = "1.0.0"

// Settings both connectors share.
const (
	QueueURL  = "sqs.queue.url"
	QueueName = "sqs.queue.name"
)

// Source settings.
const (
	Topic                    = "topic"
	WaitTimeSeconds          = "sqs.wait.time.seconds"
	MaxMessages              = "sqs.max.messages"
	VisibilityTimeoutSeconds = "sqs.visibility.timeout.seconds"
	AttributesAsHeaders      = "sqs.attributes.as.headers"
	MessageHeaders           = "sqs.message.headers"
	ResolveS3Pointers        = "sqs.resolve.s3.pointers"
	DeleteS3Payloads         = "sqs.delete.s3.payloads"
)

// Sink settings.
const (
	MessageGroupID      = "sqs.message.group.id"
	HeadersAsAttributes = "sqs.headers.as.attributes"
	MaxRetries          = "sqs.max.retries"
)

// The headers a source record carries.
const (
	HeaderMessageID      = "sqs.message.id"
	HeaderMessageGroupID = "sqs.message.group.id"
	HeaderAttrPrefix     = "sqs.attr."
)

const groupQueue = "SQS"

var queueDef = connect.ConfigDef{
	{Name: QueueURL, Type: connect.ConfigString, Importance: connect.High, Group: groupQueue, DisplayName: "Queue URL",
		Doc: "The queue's URL. Either this or " + QueueName + "."},
	{Name: QueueName, Type: connect.ConfigString, Importance: connect.High, Group: groupQueue, DisplayName: "Queue name",
		Doc: "The queue's name, resolved with GetQueueUrl. Either this or " + QueueURL + "."},
}

// SourceDef describes the source connector's settings.
var SourceDef = concat(queueDef, connect.ConfigDef{
	{Name: Topic, Type: connect.ConfigString, Required: true, Importance: connect.High, Group: groupQueue, DisplayName: "Kafka topic",
		Doc: "The Kafka topic the messages are written to.", Check: connect.NonEmpty},
	{Name: WaitTimeSeconds, Type: connect.ConfigInt, Default: "20", Importance: connect.Medium, Group: groupQueue,
		Doc: "Long poll duration of each ReceiveMessage, in seconds.", Check: connect.Between(0, 20)},
	{Name: MaxMessages, Type: connect.ConfigInt, Default: "10", Importance: connect.Medium, Group: groupQueue,
		Doc: "Messages asked for by each ReceiveMessage.", Check: connect.Between(1, 10)},
	{Name: VisibilityTimeoutSeconds, Type: connect.ConfigInt, Default: "-1", Importance: connect.Medium, Group: groupQueue,
		Doc:   "Visibility timeout of received messages, in seconds; -1 uses the queue's. Messages still waiting for their commit are extended by this much once half of it has passed.",
		Check: visibilityCheck},
	{Name: AttributesAsHeaders, Type: connect.ConfigBoolean, Default: "true", Importance: connect.Low, Group: groupQueue,
		Doc: "Copy each message attribute into a header " + HeaderAttrPrefix + "NAME (String and Number values as their text, Binary as its bytes)."},
	{Name: MessageHeaders, Type: connect.ConfigBoolean, Default: "true", Importance: connect.Low, Group: groupQueue,
		Doc: "Add the headers " + HeaderMessageID + " and, on FIFO queues, " + HeaderMessageGroupID + "."},
	{Name: ResolveS3Pointers, Type: connect.ConfigBoolean, Default: "true", Importance: connect.Low, Group: groupQueue,
		Doc: "Replace a message that is an extended client's S3 pointer (its body the PayloadS3Pointer JSON, marked by the ExtendedPayloadSize or SQSLargePayloadSize attribute) by the object it points to, read with the same AWS settings; false copies the pointer as it is."},
	{Name: DeleteS3Payloads, Type: connect.ConfigBoolean, Default: "true", Importance: connect.Low, Group: groupQueue,
		Doc: "Delete the object of a resolved pointer message once the message itself was deleted at commit, as the Java extended client's cleanupS3Payload does; false leaves it. Objects of pointers kept as they are (" + ResolveS3Pointers + "=false) are never deleted."},
}, awsconf.Def)

// SinkDef describes the sink connector's settings.
var SinkDef = concat(queueDef, connect.ConfigDef{
	{Name: MessageGroupID, Type: connect.ConfigString, Importance: connect.Medium, Group: groupQueue, DisplayName: "Message group id",
		Doc: "FIFO queues: the MessageGroupId of every message; empty takes it from the record's key (records without a key go to group \"default\")."},
	{Name: HeadersAsAttributes, Type: connect.ConfigBoolean, Default: "true", Importance: connect.Low, Group: groupQueue,
		Doc: "Send each record header whose name and value SQS accepts as a String message attribute (at most 10)."},
	{Name: MaxRetries, Type: connect.ConfigInt, Default: "5", Importance: connect.Low, Group: groupQueue,
		Doc: "How many times entries SQS failed on its side are sent again within one Put before the Put fails as retriable.", Check: connect.AtLeast(0)},
}, awsconf.Def)

// visibilityCheck takes -1 or 1 to 43200: a zero timeout would hand every
// message straight to another consumer, and SQS's API cannot ask for one
// per receive apart from the queue's.
func visibilityCheck(v any) error {
	if n := v.(int); n == 0 || n < -1 || n > 43200 {
		//lint:ignore ST1005 Kafka's capitalised wording, after "Invalid value V for configuration N: "
		return fmt.Errorf("Value must be -1 or between 1 and 43200")
	}
	return nil
}

func concat(defs ...connect.ConfigDef) connect.ConfigDef {
	var out connect.ConfigDef
	for _, d := range defs {
		out = append(out, d...)
	}
	return out
}

// Plugins returns the SQS connectors.
func Plugins() []connect.Plugin {
	return []connect.Plugin{
		{Class: SourceClass, Type: connect.PluginSource, Version: Version, Config: SourceDef,
			Doc:       "Copies SQS messages into a Kafka topic; deletes them after Kafka acknowledged them.",
			NewSource: func() connect.SourceConnector { return &SourceConnector{} }},
		{Class: SinkClass, Type: connect.PluginSink, Version: Version, Config: SinkDef,
			Doc:     "Sends Kafka records to an SQS queue with SendMessageBatch.",
			NewSink: func() connect.SinkConnector { return &SinkConnector{} }},
	}
}

// validateQueue is the rule ConfigDef cannot say: exactly one of the URL and
// the name.
func validateQueue(cfg connect.Config) map[string][]string {
	url, name := strings.TrimSpace(cfg[QueueURL]), strings.TrimSpace(cfg[QueueName])
	switch {
	case url == "" && name == "":
		msg := fmt.Sprintf("One of %s and %s is required.", QueueURL, QueueName)
		return map[string][]string{QueueURL: {msg}, QueueName: {msg}}
	case url != "" && name != "":
		msg := fmt.Sprintf("Only one of %s and %s may be set.", QueueURL, QueueName)
		return map[string][]string{QueueURL: {msg}, QueueName: {msg}}
	}
	return nil
}

// isFIFO tells a FIFO queue by its name, which AWS requires to end in .fifo.
func isFIFO(cfg connect.Config) bool {
	q := strings.TrimSpace(cfg[QueueURL])
	if q == "" {
		q = strings.TrimSpace(cfg[QueueName])
	}
	return strings.HasSuffix(q, ".fifo")
}

// parse checks cfg against def and the queue rule.
func parse(def connect.ConfigDef, cfg connect.Config) (connect.Values, error) {
	vals, errs := def.Parse(cfg)
	for k, v := range validateQueue(cfg) {
		if errs == nil {
			errs = map[string][]string{}
		}
		errs[k] = append(errs[k], v...)
	}
	if len(errs) > 0 {
		return vals, configError(errs)
	}
	return vals, nil
}

// configError words a validation failure as one error, names sorted.
func configError(errs map[string][]string) error {
	var msgs []string
	for _, k := range slices.Sorted(maps.Keys(errs)) {
		msgs = append(msgs, errs[k]...)
	}
	return fmt.Errorf("invalid configuration: %s", strings.Join(msgs, "; "))
}

// client builds the SQS client and resolves the queue's URL.
func client(ctx context.Context, vals connect.Values) (*awssqs.Client, aws.Config, string, error) {
	cfg, err := awsconf.Load(ctx, vals)
	if err != nil {
		return nil, cfg, "", err
	}
	c := awssqs.NewFromConfig(cfg)
	url := strings.TrimSpace(vals.String(QueueURL))
	if url == "" {
		out, err := c.GetQueueUrl(ctx, &awssqs.GetQueueUrlInput{QueueName: aws.String(strings.TrimSpace(vals.String(QueueName)))})
		if err != nil {
			return nil, cfg, "", fmt.Errorf("GetQueueUrl %s: %w", vals.String(QueueName), err)
		}
		url = aws.ToString(out.QueueUrl)
	}
	return c, cfg, url, nil
}

func sortedNames[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
