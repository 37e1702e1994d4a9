// Package sqs is the Amazon SQS API of the bridge, being built. Today it
// holds the message rules every SQS operation that carries a message shares,
// as pure functions with no I/O, so that SendMessage, SendMessageBatch and
// ReceiveMessage answer exactly as the real SQS does:
//
//   - the body: allowed characters, non-empty, at most the queue's
//     MaximumMessageSize counted the way SQS counts it (message.go);
//   - message attributes and message system attributes: names, data types
//     and values, validated in AWS's order and with AWS's words
//     (attributes.go, number.go);
//   - the MD5 digests SQS returns (MD5OfMessageBody, MD5OfMessageAttributes,
//     MD5OfMessageSystemAttributes), bit-exact because SDKs verify them
//     (md5.go);
//   - Error, the code in both protocols and the message of a refusal, which
//     the API layer turns into an awsapi.Error (errors.go).
//
// Where the wording of a refusal comes from is recorded beside it: AWS
// documents its limits but not its error messages, so the messages are those
// captured from the real service where a capture was found, and otherwise
// those of emulators that test against it.
package sqs
