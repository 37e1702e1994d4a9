// Package plugins is the list of StreamBridge's built-in Connect plugins:
// the converters, transforms, predicates and connectors a worker knows by
// class name. It imports every plugin package and nothing imports it but the
// command that builds a worker, so plugins never depend on each other.
package plugins

import "github.com/streambridge/bridge/connect"

// builtins returns the Plugins() list of every built-in plugin package.
// Each package exports `func Plugins() []connect.Plugin`; add it here when
// it lands:
//
//	convert.Plugins()              // String, ByteArray, Json converters
//	transform.Plugins()            // InsertField, ReplaceField, ..., Filter, predicates
//	connectors/file.Plugins()      // FileStreamSource/Sink, the tailing file source
//	connectors/httpsink.Plugins()  // the HTTP sink
//	connectors/kinesis.Plugins()   // Kinesis source and sink
//	connectors/sqs.Plugins()       // SQS source and sink
//	connectors/s3.Plugins()        // S3 sink
//	connectors/kafka.Plugins()     // Kafka source and sink to another cluster
func builtins() [][]connect.Plugin {
	return nil
}

// Registry returns a new registry of every built-in plugin.
func Registry() *connect.Registry {
	var r connect.Registry
	for _, list := range builtins() {
		r.Register(list...)
	}
	return &r
}
