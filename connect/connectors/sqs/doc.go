// Package sqs holds the SQS connectors: SqsSourceConnector copies a queue's
// messages into a Kafka topic, SqsSinkConnector sends Kafka records to a
// queue. Both speak to any SQS endpoint (the bridge, AWS, an emulator)
// through aws-sdk-go-v2 and connect/connectors/awsconf.
//
// Invariants of the source:
//   - A message is deleted from the queue only in Commit, after the runtime
//     stored the positions of records Kafka acknowledged (CommitRecord), never
//     earlier: a task that dies before Commit leaves its messages to come
//     back when their visibility timeout runs out, so nothing is lost and
//     duplicates are bounded by what was in flight.
//   - SQS has no replayable position, so the stored offset ({"message_id":…})
//     is information only; the queue itself remembers what is left.
//   - While a message waits for its Commit its visibility timeout is
//     extended (ChangeMessageVisibilityBatch) once half of it has passed, so
//     a slow Kafka does not make SQS hand it to another consumer.
//   - On a FIFO queue one task reads (SQS hands a group's next message only
//     after the previous one is deleted) and every record of a message group
//     carries the group id as its key, so the producer's partitioner puts a
//     group into one Kafka partition, in order.
//
// Invariants of the sink:
//   - Put returns only when every record was accepted by SQS or handed to
//     SinkTaskContext.Report, so PreCommit may return the offsets it is given.
//   - Only entries SQS failed on its side (SenderFault=false) are sent again;
//     an entry SQS refused as the sender's fault is reported, never retried.
//   - On a FIFO queue the deduplication id is derived from the record's
//     topic, partition and offset, so a redelivery after a crash is dropped by
//     SQS's five-minute deduplication rather than written twice.
package sqs
