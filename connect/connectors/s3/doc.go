// Package s3 holds S3SinkConnector: Kafka records written as objects in a
// bucket, in the style of Confluent's S3 sink and of Kinesis Data Firehose
// (JSON lines or raw bytes, optionally gzip, rotated by record count, record
// time, size or wall clock, keys partitioned by Kafka partition, time or a
// field).
//
// Objects are named as Confluent names them:
//
//	<topics.dir>/<topic>/<encoded partition>/<topic>+<kafka partition>+<start offset, 10 digits>.<ext>
//
// Invariants, which give exactly-once objects:
//   - An object is written only when its file is complete (PutObject, or a
//     multipart upload completed at the end), so a reader never sees part of
//     one.
//   - A Kafka partition's records go into files that are finished together
//     (a rotation); PreCommit returns, per partition, the offset after the
//     last finished rotation, never more.
//   - Every object of a rotation carries the rotation's first offset in its
//     user metadata (x-amz-meta-kafka-rotation-start). On Open the task lists
//     the partition's objects, takes the one with the highest start offset
//     (it belongs to the newest rotation with anything uploaded) and rewinds
//     the partition to that rotation's first offset. Replaying from there
//     cuts the same rotations with the same contents as before (the rules
//     are functions of the records), so a crash between an upload and the
//     offset commit rewrites the same names with the same bytes and never
//     writes a second object holding a record.
//   - That holds while rotations depend on the records only: record-time
//     rotation and partitioning, flush.size, s3.object.max.bytes. Wall-clock
//     settings (rotate.schedule.interval.ms, timestamp.extractor=Wallclock)
//     cut rotations where the clock says, as in Confluent's sink: a replay
//     may then cut differently and leave records in two objects.
package s3
