// Package kinesis is the Kinesis source and sink connectors of StreamBridge's
// Kafka Connect-compatible workers:
// io.streambridge.connect.kinesis.KinesisSourceConnector copies a Kinesis data
// stream into a Kafka topic and io.streambridge.connect.kinesis.KinesisSinkConnector
// copies Kafka topics into a stream. Both talk to Kinesis with aws-sdk-go-v2
// over the settings of connect/connectors/awsconf, so they work against the
// bridge, kinesalite or AWS alike; they never touch a store directly.
//
// # Source
//
// The connector lists the stream's shards (ListShards) and gives each task
// whole lineages: a shard, its parents and its children, joined across
// merges (assignShards). Every kinesis.shard.discovery.interval.ms it lists
// them again and asks for new task configurations when a shard appeared,
// closed or expired.
//
// With kinesis.consumer.type=EFO a task reads its shards with enhanced
// fan-out instead (source_efo.go): the same order, offsets and back-off,
// records pushed over SubscribeToShard. With kinesis.resolve.s3.pointers,
// records that are PayloadS3Pointers (what the sink puts for records it
// offloads) are handed out as their objects' bytes (source_pointers.go).
//
// A task reads its shards with GetShardIterator and GetRecords inside Poll:
// each round makes one call per shard that is due, those calls at the same
// time, and hands out their records in shard order. Its invariants:
//
//   - Parent before child: a shard is read only once each parent it holds is
//     finished, i.e. read to its end (no NextShardIterator) and every record
//     handed out of it committed (CommitRecord). Because lineages are not
//     split across tasks, this needs nothing but the task's own memory; after
//     a restart, a parent whose stored offset is its last record is found
//     finished with one GetRecords call, and one whose stored offset carries
//     "closed": true with none.
//   - The stored offsets are the only state: partition {"stream","shard"},
//     offset {"sequence": "N"} (a string: sequence numbers outgrow JSON
//     numbers), plus "subsequence": K for user record K of a KPL aggregate.
//     A restart resumes AFTER_SEQUENCE_NUMBER N, or AT_SEQUENCE_NUMBER N
//     skipping user records up to K, so nothing acknowledged comes twice.
//   - Throttling and transient failures back a shard off (100 ms doubling to
//     10 s) without failing the task; an expired iterator is renewed after
//     the last record handed out.
//
// # Sink
//
// Put writes synchronously with PutRecords within Kinesis's limits (500
// records, 5 MiB a call, 1 MiB a record with its partition key, or the
// stream's MaxRecordSizeInKiB), so PreCommit returns the offsets it is
// given. With kinesis.offload.s3.bucket, a record over the offload
// threshold is written to S3 and a PayloadS3Pointer record put in its
// place (sink_offload.go). Entries Kinesis refuses for a
// passing reason (throughput, internal failure, KMS throttling) are sent
// again, alone, with backoff, and the later records of their Kafka
// partitions wait for them. A record that can never go (too large, a value
// that cannot be encoded, a permanent refusal) goes to
// SinkTaskContext.Report: errors.tolerance and the dead letter queue decide.
package kinesis
