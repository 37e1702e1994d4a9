package itest

// Cross-protocol: one bridge, Kafka clients on one side and Kinesis clients
// on the other, the same records in between.
//
//   - kcat and franz-go produce keyed records; boto3, the AWS CLI, the JS
//     SDK and aws-sdk-go-v2 read the same partition keys and bytes, at the
//     sequence numbers the Kafka offsets encode.
//   - boto3 and the JS SDK PutRecords; kcat, kafka-python and franz-go read
//     the same keys and values.
//   - a SplitShard through boto3 adds a Kafka partition, a franz-go consumer
//     of the parent's partition goes on without a gap, and a Kinesis reader
//     following ChildShards from the parent loses and reorders nothing.

import (
	"bytes"
	"context"
	"fmt"
	"math/big"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streambridge/bridge/mapping"
)

func TestKinesisCrossProtocol(t *testing.T) {
	k := startKinesisBridge(t)
	t.Run("kafka-producers-kinesis-readers", func(t *testing.T) { testKafkaToKinesis(t, k) })
	t.Run("kinesis-producers-kafka-consumers", func(t *testing.T) { testKinesisToKafka(t, k) })
	t.Run("split-shard-new-partition", func(t *testing.T) { testSplitAcrossProtocols(t, k) })
}

func testKafkaToKinesis(t *testing.T, k *kinesisBridge) {
	const topic = "from-kafka"
	const partitions = 3
	ctx := kctx(t)
	resp, err := k.kadm().CreateTopic(ctx, partitions, 1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("create topic %s: %v", topic, err)
	}

	// franz-go: binary values, zstd batches, and keys a Kinesis partition
	// key cannot be (null, empty, not UTF-8, too long), which readers see
	// as mapping's substitutes.
	var kgoRecs []rec
	keys := [][]byte{nil, {}, {0xff, 0xfe, 0x00}, bytes.Repeat([]byte("k"), 300), []byte("plain-key"), []byte("ключ")}
	for i := range 60 {
		v := fmt.Appendf(nil, "kgo-%d\x00", i)
		for j := range i * 40 {
			v = append(v, byte(i+j))
		}
		kgoRecs = append(kgoRecs, rec{Key: keys[i%len(keys)], Value: v, Timestamp: time.Now().UnixMilli()})
	}
	kgoRecs = kgoProduce(t, k.bridge.kafka, topic, "zstd", kgoRecs)

	var wants []krec
	for _, r := range kgoRecs {
		// Partition i of a topic made by Kafka is shard i; the sequence
		// number encodes (shard, offset).
		wants = append(wants, krec{PK: mapping.PartitionKeyForKafkaKey(r.Key), Data: r.Value,
			Shard: mapping.ShardID(int(r.Partition)), Seq: mapping.SequenceNumber(int(r.Partition), r.Offset)})
	}
	// kcat: text through its line input, lz4 batches.
	// kcat is optional here outside CI, so that the rest runs without it.
	if checkKcat() == nil || os.Getenv("CI") == "true" {
		need(t, "kcat", checkKcat, installKcat)
		var kcatRecs []rec
		for i := range 30 {
			kcatRecs = append(kcatRecs, rec{Key: fmt.Appendf(nil, "kcat-key-%d", i%4), Value: fmt.Appendf(nil, "kcat-%d value", i)})
		}
		kcatProduce(t, k.bridge.kafka, topic, "lz4", kcatRecs)
		for _, r := range kcatRecs {
			wants = append(wants, krec{PK: string(r.Key), Data: r.Value})
		}
	}

	compareKrecs(t, "aws-sdk-go-v2", wants, sdkRead(t, k, topic, len(wants)))
	t.Run("boto3", func(t *testing.T) {
		need(t, "boto3", checkBoto3, installBoto3)
		compareKrecs(t, "boto3", wants, readWith(t, k, kinesisPythonDriver, topic, len(wants)))
	})
	t.Run("js-sdk", func(t *testing.T) {
		need(t, "@aws-sdk/client-kinesis", checkNodeKinesis, installNodeKinesis)
		compareKrecs(t, "JS SDK", wants, readWith(t, k, kinesisNodeDriver, topic, len(wants)))
	})
	t.Run("awscli", func(t *testing.T) {
		need(t, "AWS CLI", checkAWSCLI, installAWSCLI)
		var got []krec
		for p := range partitions {
			n := 0
			for _, w := range wants {
				if w.Shard == mapping.ShardID(p) {
					n++
				}
			}
			got = append(got, cliRead(t, k, topic, mapping.ShardID(p), n)...)
		}
		compareKrecs(t, "aws kinesis get-records", wants, got)
	})
}

func testKinesisToKafka(t *testing.T, k *kinesisBridge) {
	const stream = "from-kinesis"
	k.createStream(t, stream, 2)
	start := time.Now().UnixMilli()
	var wants []krec
	// boto3: text records, so kcat's line-oriented JSON can carry them too.
	t.Run("boto3-put", func(t *testing.T) {
		need(t, "boto3", checkBoto3, installBoto3)
		var recs []krec
		for i := range 40 {
			recs = append(recs, krec{PK: fmt.Sprintf("b3-key-%d", i%6), Data: fmt.Appendf(nil, "boto3 record %d", i)})
		}
		wants = append(wants, putWith(t, k, kinesisPythonDriver, stream, recs)...)
	})
	t.Run("js-sdk-put", func(t *testing.T) {
		need(t, "@aws-sdk/client-kinesis", checkNodeKinesis, installNodeKinesis)
		wants = append(wants, putWith(t, k, kinesisNodeDriver, stream, binaryRecs("js-to-kafka", 50))...)
	})
	if len(wants) == 0 {
		t.Skip("no Kinesis producer ran")
	}
	end := time.Now().UnixMilli()

	// The Kafka view of each record: key = the partition key's bytes,
	// value = the data, at the offset its sequence number encodes, stamped
	// with its arrival.
	byKV := map[string]krec{}
	for _, w := range wants {
		byKV[w.PK+"\x00"+string(w.Data)] = w
	}
	check := func(t *testing.T, who string, got []rec, only func(krec) bool) {
		t.Helper()
		seen := map[string]int{}
		for _, g := range got {
			id := string(g.Key) + "\x00" + string(g.Value)
			w, ok := byKV[id]
			if !ok {
				t.Errorf("%s: unexpected record key %s value %s at %d/%d", who, showBytes(g.Key), showBytes(g.Value), g.Partition, g.Offset)
				continue
			}
			seen[id]++
			shard, off, err := mapping.ParseSequenceNumber(w.Seq)
			if err != nil {
				t.Fatalf("sequence number %q: %v", w.Seq, err)
			}
			// Streams made by CreateStream: shard i is partition i.
			if int(g.Partition) != shard || g.Offset != off {
				t.Errorf("%s: record key %q at %d/%d, want %d/%d (sequence number %s)", who, g.Key, g.Partition, g.Offset, shard, off, w.Seq)
			}
			if g.Timestamp != -1 && (g.Timestamp < start-1000 || g.Timestamp > end+1000) {
				t.Errorf("%s: record key %q timestamp %d outside the puts' [%d, %d]", who, g.Key, g.Timestamp, start, end)
			}
		}
		for id, w := range byKV {
			if only(w) && seen[id] != 1 {
				t.Errorf("%s: record key %q value %s read %d times, want once", who, w.PK, showBytes(w.Data), seen[id])
			}
		}
	}
	all := func(krec) bool { return true }
	ends := kafkaEndOffsets(t, k, stream)
	check(t, "franz-go", kgoConsume(t, k.bridge.kafka, stream, ends), all)
	t.Run("kafka-python", func(t *testing.T) {
		need(t, "kafka-python", checkKafkaPython, installKafkaPython)
		check(t, "kafka-python", scriptConsume(systemPython, "python/kafkapython.py")(t, k.bridge.kafka, stream, ends), all)
	})
	t.Run("kcat", func(t *testing.T) {
		need(t, "kcat", checkKcat, installKcat)
		// kcat -J writes bytes as they are: only the text records survive
		// the trip through JSON, so only they are compared.
		var got []rec
		for _, r := range kcatRead(t, k.bridge.kafka, stream, ends) {
			if strings.HasPrefix(string(r.Key), "b3-") {
				got = append(got, r)
			}
		}
		check(t, "kcat", got, func(w krec) bool { return strings.HasPrefix(w.PK, "b3-") })
	})
}

// kcatRead consumes each partition to its end offset with kcat -J,
// accepting any timestamp type (records put through Kinesis carry their
// arrival time), and keeps the records whose values kcat's JSON carries
// faithfully (UTF-8).
func kcatRead(t *testing.T, addr, topic string, ends map[int32]int64) []rec {
	t.Helper()
	var out []rec
	for _, r := range kcatRecords(t, addr, topic, ends, "") {
		if utf8.Valid(r.Value) {
			out = append(out, r)
		}
	}
	return out
}

// testSplitAcrossProtocols splits a shard through boto3 while a Kafka
// consumer reads the parent's partition and a Kafka producer writes to it.
func testSplitAcrossProtocols(t *testing.T, k *kinesisBridge) {
	need(t, "boto3", checkBoto3, installBoto3)
	const stream = "reshard"
	k.createStream(t, stream, 2)

	producer := k.kafka(kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerLinger(0))
	produceWith := func(producer *kgo.Client, partition int32, from, to int) {
		t.Helper()
		var krs []*kgo.Record
		for i := from; i < to; i++ {
			krs = append(krs, &kgo.Record{Topic: stream, Partition: partition, Key: fmt.Appendf(nil, "p%d-key-%d", partition, i%3),
				Value: fmt.Appendf(nil, "p%d-%d", partition, i)})
		}
		if err := producer.ProduceSync(kctx(t), krs...).FirstErr(); err != nil {
			t.Fatalf("produce to %s/%d: %v", stream, partition, err)
		}
	}
	produce := func(partition int32, from, to int) { produceWith(producer, partition, from, to) }

	// A consumer of partition 0 from its start, running across the split.
	consumer := k.kafka(kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{stream: {0: kgo.NewOffset().AtStart()}}),
		kgo.FetchMaxWait(200*time.Millisecond))
	var mu sync.Mutex
	var consumed []rec
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			fs := consumer.PollFetches(ctx)
			fs.EachError(func(_ string, p int32, err error) {
				if ctx.Err() == nil {
					t.Errorf("franz-go consumer of %s/%d: %v", stream, p, err)
				}
			})
			mu.Lock()
			fs.EachRecord(func(r *kgo.Record) { consumed = append(consumed, fromKgo(r)) })
			mu.Unlock()
		}
	}()
	defer func() { cancel(); <-done }()
	waitConsumed := func(n int) {
		t.Helper()
		deadline := time.Now().Add(kinesisTimeout)
		for {
			mu.Lock()
			got := len(consumed)
			mu.Unlock()
			if got >= n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("franz-go consumer of %s/0: %d records, want %d", stream, got, n)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	const before, after = 25, 25
	produce(0, 0, before)
	produce(1, 0, 5)
	waitConsumed(before)

	// Split shard 0 (hash keys [0, 2^127)) in the middle, through boto3.
	splitAt := new(big.Int).Lsh(big.NewInt(1), 126)
	runDriver(t, nil, kinesisPythonDriver, "split", "--endpoint", k.endpoint, "--stream", stream,
		"--shard", "shardId-000000000000", "--at", splitAt.String())

	// Kafka sees a third partition: the upper child.
	md, err := k.kadm().Metadata(kctx(t), stream)
	if err != nil {
		t.Fatal(err)
	}
	if parts := md.Topics[stream].Partitions; len(parts) != 3 {
		t.Errorf("after the split, Kafka metadata shows %d partitions of %s, want 3", len(parts), stream)
	}

	// Writes go on: Kafka partition 0 (now the lower child), the new
	// partition 2 (the upper child), and Kinesis puts routed by explicit
	// hash keys into both children.
	// The producer of before the split goes on with partition 0; one
	// started now knows partition 2.
	produce(0, before, before+after)
	produceWith(k.kafka(kgo.RecordPartitioner(kgo.ManualPartitioner())), 2, 0, 5)
	lowerEHK := new(big.Int).Sub(splitAt, big.NewInt(1)).String()
	kinesisPuts := []krec{{PK: "kin-low", Data: []byte("kinesis lower child"), EHK: lowerEHK},
		{PK: "kin-high", Data: []byte("kinesis upper child"), EHK: splitAt.String()}}
	kinesisPuts = putWith(t, k, kinesisPythonDriver, stream, kinesisPuts)
	if kinesisPuts[0].Shard != "shardId-000000000002" || kinesisPuts[1].Shard != "shardId-000000000003" {
		t.Errorf("puts after the split went to %s and %s, want shardId-000000000002 and shardId-000000000003",
			kinesisPuts[0].Shard, kinesisPuts[1].Shard)
	}

	// The consumer of partition 0 continues without a gap: dense offsets,
	// values in produce order, the Kinesis put to the lower child last.
	waitConsumed(before + after + 1)
	mu.Lock()
	got := slices.Clone(consumed)
	mu.Unlock()
	for i, r := range got {
		want := fmt.Sprintf("p0-%d", i)
		if i == before+after {
			want = "kinesis lower child"
		}
		if r.Offset != int64(i) || string(r.Value) != want {
			t.Errorf("partition 0 record %d: offset %d value %q, want offset %d value %q", i, r.Offset, r.Value, i, want)
		}
	}

	// A Kinesis reader that starts at the parent and follows ChildShards
	// sees, per hash-key lineage, every record in order.
	lineage := followChildShards(t, k, stream, "shardId-000000000000")
	var wantLower []string
	for i := range before + after {
		wantLower = append(wantLower, fmt.Sprintf("p0-%d", i))
	}
	wantLower = append(wantLower, "kinesis lower child")
	wantUpper := []string{"p2-0", "p2-1", "p2-2", "p2-3", "p2-4", "kinesis upper child"}
	if !slices.Equal(lineage["shardId-000000000002"], wantLower) {
		t.Errorf("parent then lower child read %q, want %q", lineage["shardId-000000000002"], wantLower)
	}
	if got := lineage["shardId-000000000003"]; !slices.Equal(got[len(got)-len(wantUpper):], wantUpper) ||
		!slices.Equal(got[:len(got)-len(wantUpper)], wantLower[:before]) {
		t.Errorf("parent then upper child read %q, want the parent's %d records then %q", got, before, wantUpper)
	}
}

// followChildShards reads a shard from TRIM_HORIZON to its end, then each
// child from ChildShards the same way, as KCL does, and returns for each
// leaf shard the data of every record from the root down to it, in read
// order.
func followChildShards(t *testing.T, k *kinesisBridge, stream, root string) map[string][]string {
	t.Helper()
	cl := k.client()
	ctx := kctx(t)
	out := map[string][]string{}
	var walk func(shard string, prefix []string, depth int)
	walk = func(shard string, prefix []string, depth int) {
		if depth > 4 {
			t.Fatalf("ChildShards deeper than 4 under %s", root)
		}
		it, err := cl.GetShardIterator(ctx, &awskinesis.GetShardIteratorInput{StreamName: aws.String(stream),
			ShardId: aws.String(shard), ShardIteratorType: ktypes.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatalf("GetShardIterator %s: %v", shard, err)
		}
		data := slices.Clone(prefix)
		iter := it.ShardIterator
		for {
			r, err := cl.GetRecords(ctx, &awskinesis.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(7)})
			if err != nil {
				t.Fatalf("GetRecords %s: %v", shard, err)
			}
			for _, x := range r.Records {
				data = append(data, string(x.Data))
			}
			if r.NextShardIterator == nil {
				if len(r.ChildShards) == 0 {
					t.Fatalf("%s ended without ChildShards", shard)
				}
				for _, c := range r.ChildShards {
					if !slices.Contains(c.ParentShards, shard) {
						t.Errorf("child %s of %s lists parents %v", *c.ShardId, shard, c.ParentShards)
					}
					walk(*c.ShardId, data, depth+1)
				}
				return
			}
			if len(r.ChildShards) > 0 {
				t.Errorf("%s: ChildShards %v before the shard's end", shard, r.ChildShards)
			}
			if len(r.Records) == 0 && aws.ToInt64(r.MillisBehindLatest) == 0 {
				out[shard] = data // an open shard, caught up
				return
			}
			iter = r.NextShardIterator
		}
	}
	walk(root, nil, 0)
	return out
}
