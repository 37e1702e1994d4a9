// Package distributed holds the building blocks of Kafka Connect's
// distributed mode, as clients of any Kafka cluster (the bridge, MSK, Apache
// Kafka): the three stores that live in compacted topics and the group
// membership that balances connectors and tasks over workers. Record and
// wire formats are Apache Kafka Connect's, byte for byte, so a bridge
// worker can read the topics of a Java Connect cluster and the reverse, and
// Java and bridge workers could share a group.
//
// # Stores
//
// Each store creates its topic when missing (cleanup.policy=compact,
// replication factor min(3, brokers) unless set) and refuses an existing
// topic whose cleanup.policy is not exactly compact with Kafka's error. On
// open it reads its topic from the beginning to the end offsets of that
// moment (Kafka's KafkaBasedLog) before it serves, then follows the topic on
// a goroutine. Writes go through an idempotent acks=all producer whose keys
// are partitioned by murmur2 as Kafka's producer does.
//
//   - OffsetStore (offset.storage.topic, connect-offsets, 25 partitions)
//     implements runtime.OffsetStore: key ["<connector>",{partition}], value
//     the offset, JSON as JsonConverter with schemas.enable=false writes it,
//     null value deletes. Put returns after the cluster acknowledged; Get and
//     List read to the end first, so they see every acknowledged write of any
//     worker. Partitions are compared by meaning: a key written by a Java
//     worker with members in another order is found, and rewritten with its
//     own bytes so compaction keeps one record.
//   - ConfigStore (config.storage.topic, connect-configs, one partition):
//     KafkaConfigBackingStore's connector-, task-, commit-, target-state-,
//     restart-connector- and KIP-618's tasks-fencing- (task count)
//     records; a connector whose tasks were committed after its last task
//     count record is PendingFencing. Task configurations become visible only at their commit
//     record; a commit naming tasks that were not written marks the
//     connector Inconsistent. Snapshot returns the view and its offset (the
//     offset after the last record read, -1 for an empty topic: the number
//     workers compare in the group protocol); OnChange hears what other
//     workers write. Puts return once written and read back.
//   - StatusStore (status.storage.topic, connect-status, 5 partitions):
//     status-connector-, status-task- and KIP-558's status-topic- records;
//     PutTaskSafe keeps a worker of an older generation from overwriting.
//
// With Options.ReadCommitted (exactly-once source support) a store reads
// only committed records and waits for the last stable offsets: offsets
// written in source tasks' transactions count once the transaction commits.
//
// # Group membership
//
// A Member joins group.id with protocol type "connect" using raw
// JoinGroup/SyncGroup/Heartbeat/LeaveGroup requests (kgo.Client.Request
// finds the coordinator with FindCoordinator and follows it when it moves).
// It offers "sessioned" (version 2), "compatible" (1) and "default" (0,
// eager) with ConnectProtocol's and IncrementalCooperativeConnectProtocol's
// metadata, most preferred first; connect.protocol=compatible or eager
// offers fewer. The coordinator elects one protocol for the group.
//
// The leader assigns from MemberConfig.Config (ConfigStore.Cluster): if
// another member has read further in the config topic it first calls
// CatchUp and, still behind, answers CONFIG_MISMATCH. The eager protocol
// revokes everything before every rebalance and hands it out round-robin
// (EagerAssign). The incremental protocols (IncrementalAssignor, KIP-415)
// let members keep what they run, revoke only deleted, duplicated and
// load-balancing work, give new work to the least loaded, and hold the work
// of a member that left for scheduled.rebalance.max.delay.ms before
// reassigning it (preferably to members that joined empty meanwhile). A
// member told to revoke stops that work inside OnAssignment and rejoins at
// once; one given a delay rejoins when it ends.
//
// OnAssignment runs on the member's goroutine with (assigned, revoked)
// connectors and tasks and the generation, and the config offset the leader
// assigned from, which the worker reads up to before it starts anything; Running returns the member's
// whole assignment. Close leaves the group; Kill stops without leaving,
// as a crash does. A member cut off from the group for longer than the
// scheduled delay revokes everything it runs, since the leader has given it
// away.
//
// # Not here
//
// The herder that turns assignments into running connectors, writes
// statuses and answers the REST API is connect/herder's Distributed; it
// forwards no request to the leader (every change is a config-topic
// record), so LeaderURL is informational. The session-key record (KIP-507
// request signing: a Java follower in a group led by a bridge worker gets
// no key) is not written.
package distributed
