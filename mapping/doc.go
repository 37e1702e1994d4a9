// Package mapping holds the pure translations between the Kafka and Kinesis
// views of a stream: hash keys and hash ranges, shard ids, sequence numbers,
// partitioners and record keys.
//
// Everything here is a deterministic function of its arguments: the package
// performs no I/O, keeps no state and imports nothing else from this module,
// so every front end and backend can rely on the same answers.
//
// The encodings are wire formats. A shard id or a sequence number handed to
// a client today must parse identically in every later release, so changing
// any layout in this package is a compatibility break, not a refactor.
package mapping
