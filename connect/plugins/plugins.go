// Package plugins is the list of StreamBridge's built-in Connect plugins:
// the converters, transforms, predicates and connectors a worker knows by
// class name. It imports every plugin package and nothing imports it but the
// command that builds a worker, so plugins never depend on each other.
package plugins

import (
	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/connectors/file"
	"github.com/streambridge/bridge/connect/connectors/http"
	"github.com/streambridge/bridge/connect/connectors/kafka"
	"github.com/streambridge/bridge/connect/connectors/kinesis"
	"github.com/streambridge/bridge/connect/connectors/s3"
	"github.com/streambridge/bridge/connect/connectors/sqs"
	"github.com/streambridge/bridge/connect/convert"
	"github.com/streambridge/bridge/connect/transform"
)

// builtins returns the Plugins() list of every built-in plugin package.
// Each package exports `func Plugins() []connect.Plugin`; a new one is
// added here.
func builtins() [][]connect.Plugin {
	return [][]connect.Plugin{
		convert.Plugins(),   // String, ByteArray, Json and number converters
		transform.Plugins(), // the single message transforms and predicates
		file.Plugins(),      // FileStreamSource/Sink, the tailing file source
		http.Plugins(),      // the HTTP sink
		kafka.Plugins(),     // Kafka source and sink to another cluster
		kinesis.Plugins(),   // Kinesis source and sink
		s3.Plugins(),        // the S3 sink
		sqs.Plugins(),       // SQS source and sink
	}
}

// Registry returns a new registry of every built-in plugin.
func Registry() *connect.Registry {
	var r connect.Registry
	for _, list := range builtins() {
		r.Register(list...)
	}
	return &r
}
