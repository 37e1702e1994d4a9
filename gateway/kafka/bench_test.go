package kafka

import (
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streambridge/bridge/mapping/recordbatch"
	"github.com/streambridge/bridge/store/embedded"
)

// benchTarget is somewhere to produce to and consume from.
type benchTarget struct {
	name  string
	start func(b *testing.B, topic string, partitions int) string // returns a seed address
}

var benchTargets = []benchTarget{
	// The bridge over a durable store: acks=all means fsynced.
	{"bridge", func(b *testing.B, topic string, partitions int) string {
		st, err := embedded.Open(embedded.Options{Dir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		ts := startServerOn(b, st)
		ts.createTopic(b, topic, partitions)
		return ts.addr
	}},
	// The bridge over an in-memory store: the protocol path alone.
	{"bridge-inmem", func(b *testing.B, topic string, partitions int) string {
		ts := startServer(b)
		ts.createTopic(b, topic, partitions)
		return ts.addr
	}},
	// kfake, franz-go's in-memory fake cluster: the reference.
	{"kfake", func(b *testing.B, topic string, partitions int) string {
		c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(int32(partitions), topic))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(c.Close)
		return c.ListenAddrs()[0]
	}},
}

const benchRecordSize = 1024

// BenchmarkProduce produces 1 KiB records with an idempotent kgo producer
// and acks=all (kgo's defaults), uncompressed random values, and reports
// MB/s (of values) and records/s. Compare targets within one run:
//
//	go test -run '^$' -bench 'Produce|Consume' -benchtime 200000x ./gateway/kafka/
func BenchmarkProduce(b *testing.B) {
	for _, partitions := range []int{1, 4} {
		for _, tg := range benchTargets {
			b.Run(fmt.Sprintf("%s/partitions=%d", tg.name, partitions), func(b *testing.B) {
				addr := tg.start(b, "bench", partitions)
				cl := benchProducer(b, addr)
				b.SetBytes(benchRecordSize)
				b.ResetTimer()
				produceN(b, cl, b.N)
				b.StopTimer()
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
			})
		}
	}
}

// BenchmarkConsume reads back b.N 1 KiB records from the start of the topic
// with a kgo consumer; producing them is not timed.
func BenchmarkConsume(b *testing.B) {
	for _, partitions := range []int{1, 4} {
		for _, tg := range benchTargets {
			b.Run(fmt.Sprintf("%s/partitions=%d", tg.name, partitions), func(b *testing.B) {
				addr := tg.start(b, "bench", partitions)
				produceN(b, benchProducer(b, addr), b.N)
				cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics("bench"),
					kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxBytes(50<<20))
				if err != nil {
					b.Fatal(err)
				}
				defer cl.Close()
				b.SetBytes(benchRecordSize)
				b.ResetTimer()
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
				defer cancel()
				for n := 0; n < b.N; {
					fs := cl.PollFetches(ctx)
					if err := ctx.Err(); err != nil {
						b.Fatalf("consumed %d of %d: %v", n, b.N, err)
					}
					fs.EachError(func(t string, p int32, err error) { b.Fatalf("%s/%d: %v", t, p, err) })
					n += fs.NumRecords()
				}
				b.StopTimer()
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
			})
		}
	}
}

func benchProducer(b *testing.B, addr string, opts ...kgo.Opt) *kgo.Client {
	opts = append([]kgo.Opt{kgo.SeedBrokers(addr), kgo.DefaultProduceTopic("bench"),
		kgo.ProducerBatchCompression(kgo.NoCompression()), kgo.RequiredAcks(kgo.AllISRAcks())}, opts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(cl.Close)
	return cl
}

// produceN produces n records and waits for every acknowledgement.
func produceN(b *testing.B, cl *kgo.Client, n int) {
	value := make([]byte, benchRecordSize)
	rand.Read(value)
	ctx := context.Background()
	var (
		wg   sync.WaitGroup
		once sync.Once
	)
	wg.Add(n)
	for i := range n {
		cl.Produce(ctx, &kgo.Record{Key: []byte{byte(i)}, Value: value}, func(_ *kgo.Record, err error) {
			if err != nil {
				once.Do(func() { b.Error(err) })
			}
			wg.Done()
		})
	}
	wg.Wait()
}

// BenchmarkDispatch measures the per-request cost of the gateway itself,
// without the network: decode a frame, run the handler, complete the
// deferred reply, encode the response. The store is in memory, so the
// figures are the gateway's overhead per request (and its allocations).
func BenchmarkDispatch(b *testing.B) {
	ts := startServer(b)
	ts.createTopic(b, "t", 1)
	plain := encodeBatch(b, recordbatch.EncodeOptions{}, "0123456789")
	frames := map[string][]byte{
		"produce":     frameOf(produceReq(9, -1, "t", 0, plain)),
		"metadata":    frameOf(metadataReq(12, false, "t")),
		"listoffsets": frameOf(listOffsetsReq("t", -1)),
		"apiversions": frameOf(kmsg.NewPtrApiVersionsRequest()),
	}
	c := &conn{s: ts.Server, remote: &net.TCPAddr{}, ctx: context.Background()}
	for _, name := range []string{"produce", "produce-idempotent", "fetch", "metadata", "listoffsets", "apiversions"} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			var buf []byte
			for i := range b.N {
				var frame []byte
				switch name {
				case "produce-idempotent":
					frame = frameOf(produceReq(9, -1, "t", 0, encodeBatch(b, recordbatch.EncodeOptions{Idempotent: true, ProducerID: 1, BaseSequence: int32(i)}, "0123456789")))
				case "fetch":
					frame = frameOf(fetchReq(12, "t", 0, 0, 0, 1, 1<<20, 1<<20))
				default:
					frame = append([]byte(nil), frames[name]...)
				}
				inf, err := c.dispatch(frame, time.Now())
				if err != nil {
					b.Fatal(err)
				}
				resp, err := c.finish(inf)
				if err != nil {
					b.Fatal(err)
				}
				buf = encodeResponse(buf[:0], inf, resp)
			}
		})
	}
}

func frameOf(req kmsg.Request) []byte {
	return kmsg.NewRequestFormatter().AppendRequest(nil, req, 1)[4:]
}

func listOffsetsReq(topic string, ts int64) *kmsg.ListOffsetsRequest {
	req := kmsg.NewPtrListOffsetsRequest()
	req.Version = 7
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewListOffsetsRequestTopicPartition()
	rp.Timestamp = ts
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return req
}
