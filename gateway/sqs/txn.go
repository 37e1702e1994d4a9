package sqs

import "context"

// A queue's topic may hold Kafka transactions. SQS sees only what they
// committed: the end of a partition, for the scan, counts and long polls, is
// its last stable offset (the first record of its oldest open transaction,
// else the high watermark), reads are Committed, and records of aborted
// transactions and markers are skipped (store.TxnFilter). A message of an
// open transaction becomes receivable when the transaction commits.

// bounds returns the partition's log start and the end a receive may scan
// to: the last stable offset.
func (q *partitionQueue) bounds(ctx context.Context) (logStart, end int64, err error) {
	logStart, _, err = q.store.Offsets(ctx, q.queue, q.partition)
	if err != nil {
		return 0, 0, err
	}
	end, err = q.store.LastStableOffset(ctx, q.queue, q.partition)
	return logStart, end, err
}
