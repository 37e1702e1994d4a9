package distributed

import (
	"github.com/twmb/franz-go/pkg/kgo"
)

// Options say how a store reaches the cluster and which topic it uses.
type Options struct {
	Brokers []string  // bootstrap.servers
	Client  []kgo.Opt // more client options: TLS, SASL, client id
	// Topic is the topic's name; empty takes the store's default.
	Topic string
	// Partitions when the store creates the topic; 0 takes the default
	// (offset.storage.partitions 25, status.storage.partitions 5; the
	// config topic always has 1).
	Partitions int32
	// ReplicationFactor when the store creates the topic; 0 or -1 means
	// min(3, brokers) (*.storage.replication.factor).
	ReplicationFactor int16
	// ReadCommitted makes the store read only committed records, up to the
	// last stable offset (exactly-once source support: offsets written in
	// tasks' transactions count once their transaction commits).
	ReadCommitted bool
}

// newProducer is the client a store writes with: acks=all and idempotent
// (kgo's defaults), records sent at once, keys partitioned by murmur2 as
// Kafka's producer does.
func newProducer(o Options) (*kgo.Client, error) {
	opts := append([]kgo.Opt{kgo.SeedBrokers(o.Brokers...), kgo.ProducerLinger(0)}, o.Client...)
	return kgo.NewClient(opts...)
}

func (o Options) spec(defTopic string, defPartitions int32, property, purpose string) TopicSpec {
	s := TopicSpec{Name: o.Topic, Partitions: o.Partitions, ReplicationFactor: o.ReplicationFactor, Property: property, Purpose: purpose}
	if s.Name == "" {
		s.Name = defTopic
	}
	if s.Partitions <= 0 {
		s.Partitions = defPartitions
	}
	return s
}
