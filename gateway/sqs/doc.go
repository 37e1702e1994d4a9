// Package sqs is the Amazon SQS API on the AWS port, being built (issue 11;
// ARCHITECTURE.md, "Queues"): so far the visibility index of a queue
// partition.
package sqs
