// Package connect is the plugin API of StreamBridge's Kafka Connect-compatible
// workers: what a connector, a task, a converter, a single message transform
// and a predicate are, the records they exchange, and the configuration
// definitions the REST API validates against. It is Apache Kafka Connect's
// Java API (org.apache.kafka.connect.{connector,source,sink,data,storage,
// transforms}) translated into Go, so a reader who knows Kafka Connect finds
// the same names doing the same jobs.
//
// The package holds no runtime: connect/runtime runs connectors and tasks
// against a Kafka cluster, connect/rest serves the REST API, and the built-in
// plugins live in connect/convert, connect/transform and
// connect/connectors/*. Everything here is plain data and interfaces, so the
// plugins and the runtime depend on this package and never on each other.
//
// # Records
//
// A Record is Kafka Connect's ConnectRecord, SourceRecord and SinkRecord in
// one struct: a source task fills SourcePartition and SourceOffset, the
// runtime fills Offset for a sink task. Keys and values are Connect data: a
// value of one of the Go types listed at Type, described by an optional
// *Schema (nil = schemaless, as JSON without schemas produces).
//
// # Lifecycles
//
//	connector: Start(cfg) → TaskConfigs(max) … → Stop()
//	source task: Start(ctx, cfg) → Poll … CommitRecord … Commit … → Stop()
//	sink task: Start(ctx, cfg) → Open(tps) → Put … PreCommit … → Close(tps) → Stop()
//
// The runtime calls one task from one goroutine at a time, except Stop, which
// may come from another goroutine while Poll or Put blocks (it must make them
// return).
package connect
