// Package file holds the file connectors: Apache Kafka's own
// FileStreamSourceConnector and FileStreamSinkConnector (same class names,
// settings, offsets and output, so the REST examples and tutorials written
// for Kafka work unchanged), and TailSourceConnector, which follows a log file
// through rotation the way the Kinesis Agent does.
//
// Invariants the tasks keep:
//
//   - A source record's SourceOffset is the byte position just after the last
//     line it holds. Resuming from a stored offset therefore starts at the
//     first byte no record has carried: no line is lost and none repeated,
//     however the lines were grouped into batches or multi-line records.
//   - Positions count bytes (Kafka's FileStreamSourceTask counts UTF-16 chars,
//     which breaks its resumption on non-ASCII files; bytes do not).
//   - A line is emitted only once its terminator has been read, except the
//     last line of a file the tail task has finished (rotated away): that
//     file will not grow any more.
//   - FileStreamSinkTask's PreCommit returns its offsets only after the
//     written lines were flushed and fsynced.
package file
