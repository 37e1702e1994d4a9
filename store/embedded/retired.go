package embedded

// A partition merged away (Kinesis MergeShards retires the partition of
// the higher-numbered shard) refuses records, but still takes control
// batches: the transaction markers the Kafka coordinator writes (Produce
// refuses control batches from clients, so nothing else writes them). A
// transaction open in the partition when it was merged thus ends there as
// everywhere else: its commit makes its records readable to read_committed
// consumers and to Kinesis readers of the closed shard, its abort hides
// them, and the last stable offset moves on instead of staying at the
// transaction for good. Refusing the merge while a transaction is open, or
// aborting it from the store, would make MergeShards depend on Kafka
// clients, or end a transaction apart from its other partitions and so
// break its atomicity; waiting for the marker keeps both APIs as they are.
//
// The marker lands past the closed shard's end offset, in no shard: Kinesis
// readers of the shard stop at its end (and never show markers), Kafka
// consumers read the partition to its high watermark and skip markers. A
// marker for no open transaction (the coordinator writing again after a
// restart) changes nothing, as on any partition.

// retiredTakes reports whether a retired partition takes an append: a
// control batch appended by partition (shard -1: Kinesis appends name their
// shard, and its shard is closed).
func retiredTakes(shard int, control bool) bool {
	return control && shard < 0
}
