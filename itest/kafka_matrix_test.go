package itest

import (
	"context"
	"encoding/binary"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"
)

// TestKafkaClientMatrix is issue 3's proof: every client produces keyed
// records with every codec it supports to its own topic (created with kadm),
// and every other client reads that topic back by partition assignment. Each
// read is compared record by record (key, value, headers, timestamp,
// partition, offset) with what was produced and acknowledged. A raw Fetch
// also checks that each record sits in a batch compressed with the codec
// its producer was told to use, so a client that silently sent
// uncompressed batches, or a server that rewrote them, fails too.
func TestKafkaClientMatrix(t *testing.T) {
	k := startKafka(t)
	base := time.Now().Add(-time.Hour).Truncate(time.Second).UnixMilli()
	apis := serverAPIVersions(t, k)

	for _, prod := range kafkaClients {
		t.Run("producer="+prod.name, func(t *testing.T) {
			prod.need(t)
			topic := "matrix-" + prod.name
			k.createTopic(topic, 3, nil)

			wants := map[string]want{}
			codecOf := map[string]string{} // record id -> codec
			for _, codec := range codecs {
				stored := codec
				if prod.storedCodec != nil {
					var why string
					if stored, why = prod.storedCodec(t, codec, apis); why != "" {
						t.Logf("%s asked for %s stores %s: %s", prod.name, codec, stored, why)
					}
				}
				recs := genRecs(prod, codec, base)
				start := time.Now().UnixMilli()
				acked := prod.produce(t, k.addr, topic, codec, recs)
				end := time.Now().UnixMilli()
				for _, r := range acked {
					w := want{rec: r}
					if !prod.timestamps {
						w.tsLo, w.tsHi = start-1000, end+1000
					}
					wants[recID(r)] = w
					codecOf[recID(r)] = stored
				}
			}
			ends := k.endOffsets(topic)
			var total int64
			for _, e := range ends {
				total += e
			}
			if int(total) != len(wants) {
				t.Errorf("high watermarks %v add up to %d records, produced %d", ends, total, len(wants))
			}

			// The reference read (franz-go) checks the content and fixes the
			// positions every other reader must agree with.
			ref := kgoConsume(t, k.addr, topic, ends)
			compareRecs(t, "franz-go reading "+topic, wants, ref)
			for _, r := range ref {
				if w, ok := wants[recID(r)]; ok {
					w.Partition, w.Offset = r.Partition, r.Offset
					wants[recID(r)] = w
				}
			}
			checkBatchCodecs(t, k, topic, ends, ref, codecOf)
			if t.Failed() {
				return
			}

			for _, cons := range kafkaClients {
				if cons.name == prod.name {
					continue
				}
				t.Run("consumer="+cons.name, func(t *testing.T) {
					cons.need(t)
					compareRecs(t, cons.name+" reading "+topic, wants, cons.consume(t, k.addr, topic, ends))
				})
			}
		})
	}
}

// checkBatchCodecs fetches topic with a raw Fetch request and checks that
// every record sits in a v2 batch compressed with the codec its producer
// used (codecOf, by record id).
func checkBatchCodecs(t *testing.T, k *kafkaCluster, topic string, ends map[int32]int64, recs []rec, codecOf map[string]string) {
	t.Helper()
	type span struct {
		first, last int64
		codec       string
	}
	names := map[int16]string{0: "none", 1: "gzip", 2: "snappy", 3: "lz4", 4: "zstd"}
	batches := map[int32][]span{}
	// Fetch v13+ names topics by id; v12 by name keeps this simple and is
	// what the bridge serves at most (issue 3).
	versions := kversion.Stable()
	versions.SetMaxKeyVersion(int16(kmsg.Fetch), 12)
	cl := k.client(kgo.MaxVersions(versions))
	ctx, cancel := context.WithTimeout(context.Background(), kafkaTimeout)
	defer cancel()
	for p, end := range ends {
		for off := int64(0); off < end; {
			req := kmsg.NewPtrFetchRequest()
			req.ReplicaID = -1
			req.MaxWaitMillis = 100
			req.MaxBytes = 16 << 20
			rt := kmsg.NewFetchRequestTopic()
			rt.Topic = topic
			rp := kmsg.NewFetchRequestTopicPartition()
			rp.Partition, rp.FetchOffset, rp.PartitionMaxBytes = p, off, 16<<20
			rp.LogStartOffset = -1
			rp.CurrentLeaderEpoch = -1
			rt.Partitions = append(rt.Partitions, rp)
			req.Topics = append(req.Topics, rt)
			resp, err := req.RequestWith(ctx, cl)
			if err != nil {
				t.Fatalf("raw fetch %s/%d@%d: %v", topic, p, off, err)
			}
			if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
				t.Fatalf("raw fetch %s/%d@%d: %d topics in the response", topic, p, off, len(resp.Topics))
			}
			part := resp.Topics[0].Partitions[0]
			if part.ErrorCode != 0 {
				t.Fatalf("raw fetch %s/%d@%d: error code %d", topic, p, off, part.ErrorCode)
			}
			b := part.RecordBatches
			progressed := false
			for len(b) >= 12 {
				size := 12 + int(int32(binary.BigEndian.Uint32(b[8:12])))
				if size > len(b) {
					break // a partial batch at the end of the response
				}
				var rb kmsg.RecordBatch
				if err := rb.ReadFrom(b[:size]); err != nil {
					t.Fatalf("raw fetch %s/%d@%d: batch: %v", topic, p, off, err)
				}
				if rb.Magic != 2 {
					t.Errorf("%s/%d: batch at %d has magic %d, want 2", topic, p, rb.FirstOffset, rb.Magic)
				}
				last := rb.FirstOffset + int64(rb.LastOffsetDelta)
				batches[p] = append(batches[p], span{rb.FirstOffset, last, names[rb.Attributes&7]})
				if last+1 > off {
					off, progressed = last+1, true
				}
				b = b[size:]
			}
			if !progressed {
				t.Fatalf("raw fetch %s/%d@%d: no complete batch (high watermark %d)", topic, p, off, part.HighWatermark)
			}
		}
	}
	bad := 0
	for _, r := range recs {
		want := codecOf[recID(r)]
		got := "no batch"
		for _, s := range batches[r.Partition] {
			if r.Offset >= s.first && r.Offset <= s.last {
				got = s.codec
				break
			}
		}
		if got != want {
			bad++
			if bad <= 5 {
				t.Errorf("record %s at %d/%d: stored batch codec %s, want %s", recID(r), r.Partition, r.Offset, got, want)
			}
		}
	}
	if bad > 5 {
		t.Errorf("%d records in all in batches of the wrong codec", bad)
	}
}
