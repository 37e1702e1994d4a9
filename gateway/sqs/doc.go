// Package sqs is the Amazon SQS API of the bridge (README, "SQS front end";
// ARCHITECTURE.md, "Queues"): a Handler for the AWS port that serves every
// SQS operation in both of SQS's protocols, AWS JSON 1.0 and Query, over
// queues that are streams of the store. It holds:
//
//   - the API: requests in either protocol into one registry of operations,
//     errors in each protocol's words, queue URLs and ARNs (handler.go,
//     lookup.go); the operations on queues, tags and permissions
//     (queueops.go, tags.go); sends (send.go, dedup.go, batch.go and the
//     SendMessageBatch decoder batch_json.go), receives, deletes and
//     visibility changes (receive.go, batch.go);
//   - the message rules every operation that carries a message shares, as
//     pure functions, so that SendMessage, SendMessageBatch and
//     ReceiveMessage answer exactly as the real SQS does: the body
//     (message.go); message attributes and message system attributes
//     (attributes.go, number.go); the MD5 digests SDKs verify (md5.go);
//     Error, a refusal's code in both protocols and its message (errors.go);
//   - the queue engine over the store: queues as streams and their
//     attributes (queues.go, queueattrs.go, queueref.go), the visibility
//     index of a partition (visibility.go), with a FIFO partition's message
//     groups (fifo.go), and its durable state (persist.go, partition.go),
//     queues over partitions with long polls (queue.go), receive attempt
//     ids (attempts.go) and receipt handles (receipt.go);
//   - dead-letter queues (deadletter.go), message move tasks
//     (movetasks.go), a Kafka consumer group's commits as deletes
//     (workqueue.go), and large payloads kept as objects, in the AWS
//     extended clients' pointer form (offload.go).
//
// Where the wording of a refusal comes from is recorded beside it: AWS
// documents its limits but not its error messages, so the messages are those
// captured from the real service where a capture was found, and otherwise
// those of emulators that test against it.
package sqs
