package distributed

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streambridge/bridge/gateway/kafka"
	"github.com/streambridge/bridge/store/embedded"
)

// startBridge runs the bridge's Kafka front end in-process on 127.0.0.1
// over an in-memory store, with group timeouts short enough for tests
// (100 ms minimum session, no initial rebalance delay).
func startBridge(t testing.TB) []string {
	t.Helper()
	st, err := embedded.Open(embedded.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := kafka.New(kafka.Config{Store: st, AdvertisedAddr: ln.Addr().String(), DefaultPartitions: 1,
		Groups: kafka.GroupSettings{MinSessionTimeout: 100 * time.Millisecond, InitialRebalanceDelay: -1}})
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("kafka shutdown: %v", err)
		}
		<-served
		if err := st.Close(); err != nil {
			t.Errorf("store close: %v", err)
		}
	})
	return []string{ln.Addr().String()}
}

// startKfake runs franz-go's fake cluster, a Kafka this project did not
// write, with three brokers.
func startKfake(t testing.TB) []string {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(3), kfake.GroupMinSessionTimeout(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()
}

var clusters = []struct {
	name  string
	start func(testing.TB) []string
}{
	{"bridge", startBridge},
	{"kfake", startKfake},
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func newClient(t testing.TB, brokers []string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(brokers...)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// rawRecords reads every record of topic from the start, to its end.
func rawRecords(t testing.TB, brokers []string, topic string) []*kgo.Record {
	t.Helper()
	ctx := testCtx(t)
	l, err := openLog(ctx, newClient(t, brokers), brokers, nil, topic, func(*kgo.Record) {})
	if err != nil {
		t.Fatal(err)
	}
	l.close()
	var out []*kgo.Record
	l2, err := openLog(ctx, newClient(t, brokers), brokers, nil, topic, func(r *kgo.Record) { out = append(out, r) })
	if err != nil {
		t.Fatal(err)
	}
	l2.close()
	return out
}

// murmur2 is Kafka's Utils.murmur2, written out here so the partition of a
// key is checked against Kafka's function, not against kgo's.
func murmur2(data []byte) int32 {
	const seed uint32 = 0x9747b28c
	const m uint32 = 0x5bd1e995
	const r = 24
	length := len(data)
	h := seed ^ uint32(length)
	n := length / 4
	for i := range n {
		k := uint32(data[i*4]) | uint32(data[i*4+1])<<8 | uint32(data[i*4+2])<<16 | uint32(data[i*4+3])<<24
		k *= m
		k ^= k >> r
		k *= m
		h *= m
		h ^= k
	}
	switch length % 4 {
	case 3:
		h ^= uint32(data[(length&^3)+2]) << 16
		fallthrough
	case 2:
		h ^= uint32(data[(length&^3)+1]) << 8
		fallthrough
	case 1:
		h ^= uint32(data[length&^3])
		h *= m
	}
	h ^= h >> 13
	h *= m
	h ^= h >> 15
	return int32(h)
}

// kafkaPartition is DefaultPartitioner's choice for a keyed record.
func kafkaPartition(key []byte, partitions int32) int32 {
	return (murmur2(key) & 0x7fffffff) % partitions
}
