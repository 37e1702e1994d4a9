package itest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// A record over the topic's max.message.bytes gets MESSAGE_TOO_LARGE from
// the server, and nothing else is affected: the records before and after it,
// on the same partition and connection, from the same (idempotent)
// producer, are stored at dense offsets, and the rejected record is nowhere.
// Checked for a topic configured with a small limit and for the default
// limit (1 MiB), with franz-go and with sarama.
func TestKafkaMessageTooLarge(t *testing.T) {
	k := startKafka(t)

	k.createTopic("limit-small", 2, map[string]*string{"max.message.bytes": strPtr("65536")})
	k.createTopic("limit-default", 2, nil)

	// Clients that would refuse an oversized record themselves are told
	// not to, so the record reaches the server.
	cl := k.client(kgo.ProducerBatchMaxBytes(16<<20), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerLinger(0), kgo.RecordRetries(3))
	ctx, cancel := context.WithTimeout(context.Background(), kafkaTimeout)
	defer cancel()

	type sent struct {
		topic string
		rec   rec
	}
	var stored []sent
	seq := 0
	produceOK := func(topic string, partition int32, size int) {
		t.Helper()
		seq++
		r := rec{Key: []byte("k"), Value: []byte(fmt.Sprintf("ok-%03d %s", seq, noise(size))),
			Timestamp: time.Now().UnixMilli()}
		kr := kgoRecord(topic, r)
		kr.Partition = partition
		if err := cl.ProduceSync(ctx, kr).FirstErr(); err != nil {
			t.Fatalf("%s/%d: record of %d bytes: %v", topic, partition, size, err)
		}
		r.Partition, r.Offset = kr.Partition, kr.Offset
		stored = append(stored, sent{topic, r})
	}
	produceTooLarge := func(topic string, partition int32, size int) {
		t.Helper()
		seq++
		kr := &kgo.Record{Topic: topic, Partition: partition, Value: []byte(fmt.Sprintf("big-%03d %s", seq, noise(size)))}
		err := cl.ProduceSync(ctx, kr).FirstErr()
		if !errors.Is(err, kerr.MessageTooLarge) {
			t.Errorf("%s/%d: record of %d bytes: got %v, want MESSAGE_TOO_LARGE", topic, partition, size, err)
		}
	}

	for _, p := range []int32{0, 1} {
		produceOK("limit-small", p, 100)
	}
	produceTooLarge("limit-small", 0, 100<<10) // over the topic's 64 KiB
	produceOK("limit-small", 0, 100)           // same partition, same producer
	produceOK("limit-small", 1, 60<<10)        // just under the limit
	produceTooLarge("limit-small", 1, 65<<10)  // just over
	produceOK("limit-small", 1, 100)

	produceOK("limit-default", 0, 900<<10)        // under the 1 MiB default
	produceTooLarge("limit-default", 0, 1100<<10) // over it
	produceOK("limit-default", 0, 100)
	produceOK("limit-default", 1, 100)

	// sarama, with its own client-side limit raised.
	cfg := saramaConfig(sarama.V3_6_0_0)
	cfg.Producer.Return.Successes = true
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.MaxMessageBytes = 16 << 20
	cfg.Producer.Partitioner = sarama.NewManualPartitioner
	sp, err := sarama.NewSyncProducer([]string{k.addr}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	_, _, err = sp.SendMessage(&sarama.ProducerMessage{Topic: "limit-small", Partition: 0,
		Value: sarama.StringEncoder("sarama-big " + noise(80<<10))})
	if !errors.Is(err, sarama.ErrMessageSizeTooLarge) {
		t.Errorf("sarama: record of 80 KiB to a 64 KiB topic: got %v, want MESSAGE_TOO_LARGE", err)
	}
	seq++
	r := rec{Key: []byte("k"), Value: []byte(fmt.Sprintf("ok-%03d sarama after", seq)), Timestamp: time.Now().UnixMilli()}
	m := &sarama.ProducerMessage{Topic: "limit-small", Partition: 0, Key: sarama.ByteEncoder(r.Key),
		Value: sarama.ByteEncoder(r.Value), Timestamp: time.UnixMilli(r.Timestamp)}
	if _, _, err := sp.SendMessage(m); err != nil {
		t.Fatalf("sarama: small record after the rejected one: %v", err)
	}
	r.Partition, r.Offset = m.Partition, m.Offset
	stored = append(stored, sent{"limit-small", r})

	for _, topic := range []string{"limit-small", "limit-default"} {
		wants := map[string]want{}
		for _, s := range stored {
			if s.topic == topic {
				wants[recID(s.rec)] = want{rec: s.rec}
			}
		}
		ends := k.endOffsets(topic)
		var total int64
		for _, e := range ends {
			total += e
		}
		if int(total) != len(wants) {
			t.Errorf("%s: high watermarks %v, want %d records in all: a rejected record took an offset", topic, ends, len(wants))
		}
		compareRecs(t, topic, wants, kgoConsume(t, k.addr, topic, ends))
	}
}

func strPtr(s string) *string { return &s }

// noise is n random bytes: incompressible, so a batch's size on the wire is
// what the limits are checked against whatever codec a client picks.
func noise(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return string(b)
}
