package kafka

// Produce v0-2 and Fetch v0-3 (message sets of magic 0 and 1), ListOffsets
// v0, over raw kmsg requests at each old version and with sarama at old
// protocol levels.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streambridge/bridge/mapping/recordbatch"
)

var legacyRecords = []recordbatch.Record{
	{Timestamp: time.UnixMilli(1700000000000), Key: []byte("k1"), Value: []byte("first")},
	{Timestamp: time.UnixMilli(1700000000001), Key: nil, Value: []byte("null key")},
	{Timestamp: time.UnixMilli(1700000000002), Key: []byte("k3"), Value: nil}, // tombstone
}

// messageSet returns records as a message set of magic, compressed with c.
func messageSet(t *testing.T, records []recordbatch.Record, magic int8, c recordbatch.Codec) []byte {
	t.Helper()
	b, err := recordbatch.Encode(nil, records, recordbatch.EncodeOptions{Codec: c})
	if err != nil {
		t.Fatal(err)
	}
	set, err := recordbatch.AppendMessageSet(nil, b, magic, 0)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// outerMessages reads a message set's top-level messages with kmsg,
// checking size and CRC; a partial last message is left out, as consumers
// do.
func outerMessages(t *testing.T, set []byte) []kmsg.MessageV1 {
	t.Helper()
	var out []kmsg.MessageV1
	for len(set) >= 17 {
		size := int(binary.BigEndian.Uint32(set[8:]))
		if len(set) < 12+size {
			break
		}
		m := kmsg.MessageV1{Timestamp: -1}
		if set[16] == 0 {
			var m0 kmsg.MessageV0
			if err := m0.ReadFrom(set[:12+size]); err != nil {
				t.Fatal(err)
			}
			m = kmsg.MessageV1{Offset: m0.Offset, MessageSize: m0.MessageSize, CRC: m0.CRC, Magic: 0, Attributes: m0.Attributes, Timestamp: -1, Key: m0.Key, Value: m0.Value}
		} else if err := m.ReadFrom(set[:12+size]); err != nil {
			t.Fatal(err)
		}
		if crc := crc32.ChecksumIEEE(set[16 : 12+size]); uint32(m.CRC) != crc {
			t.Fatalf("message at %d: crc %#x, computed %#x", m.Offset, uint32(m.CRC), crc)
		}
		out = append(out, m)
		set = set[12+size:]
	}
	return out
}

func legacyFetch(t *testing.T, c *rawConn, v int16, topic string, offset int64, maxBytes, partMax int32) kmsg.FetchResponseTopicPartition {
	t.Helper()
	resp := c.roundTrip(t, fetchReq(v, topic, 0, offset, 0, 0, maxBytes, partMax)).(*kmsg.FetchResponse)
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		t.Fatalf("fetch v%d: %+v", v, resp)
	}
	return resp.Topics[0].Partitions[0]
}

func TestLegacyProduceFetchRaw(t *testing.T) {
	ts := startServer(t)
	c := dialRaw(t, ts.addr)
	for _, tc := range []struct {
		produce int16
		magic   int8
	}{{0, 0}, {1, 0}, {1, 1}, {2, 1}} {
		for _, codec := range []recordbatch.Codec{recordbatch.None, recordbatch.Gzip, recordbatch.Snappy, recordbatch.LZ4} {
			t.Run(fmt.Sprintf("produce v%d magic %d %s", tc.produce, tc.magic, codec), func(t *testing.T) {
				topic := fmt.Sprintf("legacy-%d-%d-%s", tc.produce, tc.magic, codec)
				req := produceReq(tc.produce, 1, topic, 0, messageSet(t, legacyRecords, tc.magic, codec))
				presp := c.roundTrip(t, req).(*kmsg.ProduceResponse)
				if rp := presp.Topics[0].Partitions[0]; rp.ErrorCode != 0 || rp.BaseOffset != 0 {
					t.Fatalf("produce: %v, base offset %d", kerr.ErrorForCode(rp.ErrorCode), rp.BaseOffset)
				}

				// Stored as one v2 batch, compressed with the producer's codec.
				p := legacyFetch(t, c, 12, topic, 0, 1<<20, 1<<20)
				batches, err := recordbatch.Split(p.RecordBatches)
				if err != nil || len(batches) != 1 {
					t.Fatalf("stored: %d batches, %v", len(batches), err)
				}
				info, recs, err := recordbatch.Decode(batches[0])
				if err != nil {
					t.Fatal(err)
				}
				if info.Codec() != codec || len(recs) != len(legacyRecords) {
					t.Fatalf("stored batch: codec %s, %d records; want %s", info.Codec(), len(recs), codec)
				}
				for i, r := range recs {
					w := legacyRecords[i]
					if !bytes.Equal(r.Key, w.Key) || (r.Key == nil) != (w.Key == nil) || !bytes.Equal(r.Value, w.Value) || (r.Value == nil) != (w.Value == nil) {
						t.Fatalf("record %d: %+v, want %+v", i, r, w)
					}
					if tc.magic == 1 && !r.Timestamp.Equal(w.Timestamp) {
						t.Fatalf("record %d: timestamp %v, want %v", i, r.Timestamp, w.Timestamp)
					}
					if tc.magic == 0 && !r.Timestamp.IsZero() {
						t.Fatalf("record %d: magic 0 got timestamp %v, want none (-1)", i, r.Timestamp)
					}
				}

				// Down-converted for each old fetch version.
				for v := int16(0); v <= 3; v++ {
					p := legacyFetch(t, c, v, topic, 0, 1<<20, 1<<20)
					if p.ErrorCode != 0 || p.HighWatermark != 3 {
						t.Fatalf("fetch v%d: %v, high watermark %d", v, kerr.ErrorForCode(p.ErrorCode), p.HighWatermark)
					}
					wantMagic := int8(1)
					if v < 2 {
						wantMagic = 0
					}
					msgs := outerMessages(t, p.RecordBatches)
					for _, m := range msgs {
						if m.Magic != wantMagic {
							t.Fatalf("fetch v%d: magic %d message", v, m.Magic)
						}
					}
					if codec != recordbatch.None && (len(msgs) != 1 || recordbatch.Codec(msgs[0].Attributes&7) != codec || msgs[0].Offset != 2) {
						t.Fatalf("fetch v%d: want one %s wrapper at offset 2, got %+v", v, codec, msgs)
					}
					if codec == recordbatch.None && (len(msgs) != 3 || msgs[2].Offset != 2 || msgs[2].Value != nil || msgs[1].Key != nil) {
						t.Fatalf("fetch v%d: %+v", v, msgs)
					}
					back, err := recordbatch.FromMessageSet(nil, p.RecordBatches)
					if err != nil {
						t.Fatalf("fetch v%d: %v", v, err)
					}
					if _, recs, err := recordbatch.Decode(back); err != nil || len(recs) != 3 || string(recs[0].Value) != "first" {
						t.Fatalf("fetch v%d: %d records, %v", v, len(recs), err)
					}
				}
			})
		}
	}
}

func TestLegacyProduceErrors(t *testing.T) {
	ts := startServer(t)
	c := dialRaw(t, ts.addr)
	good := messageSet(t, legacyRecords, 1, recordbatch.None)
	badCRC := bytes.Clone(good)
	badCRC[len(badCRC)-1] ^= 1
	zstdWrapper := func() []byte {
		// A magic 1 wrapper claiming zstd (KIP-110: v2 batches only).
		set := messageSet(t, legacyRecords, 1, recordbatch.Gzip)
		set[17] = set[17]&^7 | byte(recordbatch.Zstd)
		binary.BigEndian.PutUint32(set[12:], crc32.ChecksumIEEE(set[16:]))
		return set
	}()
	for _, tc := range []struct {
		name    string
		version int16
		records []byte
		want    *kerr.Error
	}{
		{"v2 batch in produce v2", 2, encodeBatch(t, recordbatch.EncodeOptions{}, "a"), kerr.InvalidRecord},
		{"bad crc", 0, badCRC, kerr.CorruptMessage},
		{"truncated", 1, good[:len(good)-3], kerr.CorruptMessage},
		{"zstd wrapper", 2, zstdWrapper, kerr.UnsupportedCompressionType},
		{"empty", 2, []byte{}, kerr.InvalidRecord},
		{"mixed magics", 1, append(messageSet(t, legacyRecords[:1], 0, recordbatch.None), good...), kerr.InvalidRecord},
		{"two wrappers", 2, append(messageSet(t, legacyRecords, 1, recordbatch.Gzip), messageSet(t, legacyRecords, 1, recordbatch.Gzip)...), kerr.InvalidRecord},
		{"message set in produce v3", 3, good, kerr.InvalidRecord},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := c.roundTrip(t, produceReq(tc.version, 1, "legacy-errors", 0, tc.records)).(*kmsg.ProduceResponse)
			if got := resp.Topics[0].Partitions[0].ErrorCode; got != tc.want.Code {
				t.Fatalf("%v, want %v", kerr.ErrorForCode(got), tc.want)
			}
		})
	}
	// Nothing was stored, and the connection still works.
	if p := legacyFetch(t, c, 0, "legacy-errors", 0, 1<<20, 1<<20); p.ErrorCode != 0 || p.HighWatermark != 0 {
		t.Fatalf("%v, high watermark %d", kerr.ErrorForCode(p.ErrorCode), p.HighWatermark)
	}
}

func TestLegacyFetchLimits(t *testing.T) {
	ts := startServer(t)
	c := dialRaw(t, ts.addr)
	const topic = "legacy-limits"
	for i := range 5 {
		set := messageSet(t, []recordbatch.Record{{Timestamp: time.UnixMilli(1), Value: bytes.Repeat([]byte{byte('a' + i)}, 100)}}, 1, recordbatch.None)
		if rp := c.roundTrip(t, produceReq(2, 1, topic, 0, set)).(*kmsg.ProduceResponse).Topics[0].Partitions[0]; rp.ErrorCode != 0 {
			t.Fatal(kerr.ErrorForCode(rp.ErrorCode))
		}
	}
	// The reads are limited in stored (v2) bytes, as Kafka's are, before
	// the down-conversion (which here makes them smaller).
	stored := len(legacyFetch(t, c, 12, topic, 0, 1, 1).RecordBatches)
	for _, tc := range []struct {
		name              string
		version           int16
		offset            int64
		maxBytes, partMax int32
		whole             int  // whole messages wanted
		partial           bool // and a partial one after them
	}{
		{"v2 partition limit", 2, 0, 0, int32(2*stored + 10), 2, false},
		{"v2 hard limit cuts the first message", 2, 0, 0, 50, 0, true},
		{"v3 first message goes whole", 3, 0, 1 << 20, 50, 1, false},
		{"v3 response limit", 3, 0, int32(3 * stored), 1 << 20, 3, false},
		{"v1 from an offset", 1, 3, 0, 1 << 20, 2, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := legacyFetch(t, c, tc.version, topic, tc.offset, tc.maxBytes, tc.partMax)
			msgs := outerMessages(t, p.RecordBatches)
			wholeBytes := 0
			for _, m := range msgs {
				wholeBytes += 12 + int(m.MessageSize)
			}
			if len(msgs) != tc.whole || (len(p.RecordBatches) > wholeBytes) != tc.partial {
				t.Fatalf("%d whole messages in %d bytes (%d whole), want %d, partial %v", len(msgs), len(p.RecordBatches), wholeBytes, tc.whole, tc.partial)
			}
			if len(msgs) > 0 && msgs[0].Offset != tc.offset {
				t.Fatalf("first offset %d, want %d", msgs[0].Offset, tc.offset)
			}
			if tc.version < 3 && len(p.RecordBatches) > int(tc.partMax) {
				t.Fatalf("%d bytes over the partition's %d", len(p.RecordBatches), tc.partMax)
			}
		})
	}
}

// A zstd batch has no magic 0/1 form: an old fetch gets
// UNSUPPORTED_COMPRESSION_TYPE for it, but what precedes it.
func TestLegacyFetchZstd(t *testing.T) {
	ts := startServer(t)
	c := dialRaw(t, ts.addr)
	const topic = "legacy-zstd"
	for _, req := range []*kmsg.ProduceRequest{
		produceReq(2, 1, topic, 0, messageSet(t, legacyRecords[:1], 1, recordbatch.None)),
		produceReq(7, 1, topic, 0, encodeBatch(t, recordbatch.EncodeOptions{Codec: recordbatch.Zstd}, "z")),
	} {
		if rp := c.roundTrip(t, req).(*kmsg.ProduceResponse).Topics[0].Partitions[0]; rp.ErrorCode != 0 {
			t.Fatal(kerr.ErrorForCode(rp.ErrorCode))
		}
	}
	if p := legacyFetch(t, c, 2, topic, 0, 0, 1<<20); p.ErrorCode != 0 || len(outerMessages(t, p.RecordBatches)) != 1 {
		t.Fatalf("from 0: %v, %d bytes", kerr.ErrorForCode(p.ErrorCode), len(p.RecordBatches))
	}
	if p := legacyFetch(t, c, 2, topic, 1, 0, 1<<20); p.ErrorCode != kerr.UnsupportedCompressionType.Code {
		t.Fatalf("from 1: %v", kerr.ErrorForCode(p.ErrorCode))
	}
	if p := legacyFetch(t, c, 4, topic, 1, 1<<20, 1<<20); p.ErrorCode != 0 || len(p.RecordBatches) == 0 {
		t.Fatalf("v4: %v", kerr.ErrorForCode(p.ErrorCode))
	}
}

func TestListOffsetsV0(t *testing.T) {
	ts := startServer(t)
	c := dialRaw(t, ts.addr)
	const topic = "legacy-offsets"
	ts.createTopic(t, topic, 1)
	list := func(timestamp int64, maxNum int32) ([]int64, int16) {
		req := kmsg.NewPtrListOffsetsRequest()
		req.Version = 0
		req.ReplicaID = -1
		rt := kmsg.NewListOffsetsRequestTopic()
		rt.Topic = topic
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Timestamp, rp.MaxNumOffsets = timestamp, maxNum
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		p := c.roundTrip(t, req).(*kmsg.ListOffsetsResponse).Topics[0].Partitions[0]
		return p.OldStyleOffsets, p.ErrorCode
	}
	if got, code := list(-1, 10); code != 0 || fmt.Sprint(got) != "[0]" {
		t.Fatalf("empty latest: %v %v", got, kerr.ErrorForCode(code))
	}
	if rp := c.roundTrip(t, produceReq(2, 1, topic, 0, messageSet(t, legacyRecords, 1, recordbatch.None))).(*kmsg.ProduceResponse).Topics[0].Partitions[0]; rp.ErrorCode != 0 {
		t.Fatal(kerr.ErrorForCode(rp.ErrorCode))
	}
	newest := legacyRecords[2].Timestamp.UnixMilli()
	future := time.Now().Add(time.Hour).UnixMilli()
	for _, tc := range []struct {
		ts     int64
		maxNum int32
		want   string
	}{
		{-1, 10, "[3 0]"},
		{-1, 1, "[3]"},
		{-1, 0, "[]"},
		{-2, 10, "[0]"},
		{future, 10, "[3 0]"},
		{newest, 10, "[0]"},
		{newest - 1, 10, "[]"},
	} {
		if got, code := list(tc.ts, tc.maxNum); code != 0 || fmt.Sprint(got) != tc.want {
			t.Errorf("ts %d max %d: %v %v, want %s", tc.ts, tc.maxNum, got, kerr.ErrorForCode(code), tc.want)
		}
	}
}

// sarama at Kafka 0.8.2 (Produce v0, Fetch v0, ListOffsets v0, magic 0)
// and 0.10.0 (Produce v2, Fetch v2, magic 1) produces and consumes every
// codec it has at that level, and the bridge stores the batches
// compressed with it.
func TestSaramaOldVersions(t *testing.T) {
	ts := startServer(t)
	c := dialRaw(t, ts.addr)
	codecs := map[sarama.CompressionCodec]recordbatch.Codec{
		sarama.CompressionNone: recordbatch.None, sarama.CompressionGZIP: recordbatch.Gzip,
		sarama.CompressionSnappy: recordbatch.Snappy, sarama.CompressionLZ4: recordbatch.LZ4,
	}
	for _, version := range []sarama.KafkaVersion{sarama.V0_8_2_0, sarama.V0_10_0_0} {
		for sc, codec := range codecs {
			if sc == sarama.CompressionLZ4 && !version.IsAtLeast(sarama.V0_10_0_0) {
				continue // sarama refuses lz4 before 0.10
			}
			t.Run(fmt.Sprintf("%s %s", version, codec), func(t *testing.T) {
				topic := fmt.Sprintf("sarama-%s-%s", version, codec)
				cfg := sarama.NewConfig()
				cfg.Version = version
				cfg.ClientID = "sarama-legacy-test"
				cfg.Producer.Return.Successes = true
				cfg.Producer.Compression = sc
				cfg.Producer.Flush.Messages = 5 // one request, one batch
				cfg.Producer.Flush.Frequency = 50 * time.Millisecond
				cfg.Consumer.Return.Errors = true
				cfg.Consumer.MaxWaitTime = 100 * time.Millisecond
				prod, err := sarama.NewSyncProducer([]string{ts.addr}, cfg)
				if err != nil {
					t.Fatal(err)
				}
				defer prod.Close()
				var msgs []*sarama.ProducerMessage
				for i := range 5 {
					m := &sarama.ProducerMessage{Topic: topic, Partition: 0, Key: sarama.StringEncoder(fmt.Sprint("k", i)), Value: sarama.StringEncoder(fmt.Sprint("value ", i))}
					msgs = append(msgs, m)
				}
				if err := prod.SendMessages(msgs); err != nil {
					t.Fatal(err)
				}

				p := legacyFetch(t, c, 12, topic, 0, 1<<20, 1<<20)
				batches, err := recordbatch.Split(p.RecordBatches)
				if err != nil || len(batches) == 0 {
					t.Fatalf("stored: %d batches, %v", len(batches), err)
				}
				for _, b := range batches {
					if info, _ := recordbatch.Parse(b); info.Codec() != codec {
						t.Fatalf("stored batch compressed with %s, want %s", info.Codec(), codec)
					}
				}

				cons, err := sarama.NewConsumer([]string{ts.addr}, cfg)
				if err != nil {
					t.Fatal(err)
				}
				defer cons.Close()
				pc, err := cons.ConsumePartition(topic, 0, sarama.OffsetOldest)
				if err != nil {
					t.Fatal(err)
				}
				defer pc.Close()
				deadline := time.After(20 * time.Second)
				for i := range 5 {
					select {
					case m := <-pc.Messages():
						if m.Offset != int64(i) || string(m.Key) != fmt.Sprint("k", i) || string(m.Value) != fmt.Sprint("value ", i) {
							t.Fatalf("message %d: offset %d %q=%q", i, m.Offset, m.Key, m.Value)
						}
					case err := <-pc.Errors():
						t.Fatal(err)
					case <-deadline:
						t.Fatalf("consumed %d of 5", i)
					}
				}
			})
		}
	}
}

// addLegacySeeds adds the old versions' data-path requests to the fuzz
// seeds: message sets of both magics, fetches down-converting, ListOffsets v0.
func addLegacySeeds(tb testing.TB, add func(kmsg.Request), batch []byte) {
	for _, v := range []int16{0, 1, 2} {
		set, err := recordbatch.AppendMessageSet(nil, batch, int8(v/2), 0)
		if err != nil {
			tb.Fatal(err)
		}
		add(produceReq(v, 1, "t", 0, set))
	}
	for _, v := range []int16{0, 2, 3} {
		add(fetchReq(v, "t", 0, 0, 5, 1, 1<<20, 1<<20))
	}
	lo := kmsg.NewPtrListOffsetsRequest()
	lo.Version = 0
	lo.Topics = []kmsg.ListOffsetsRequestTopic{{Topic: "t", Partitions: []kmsg.ListOffsetsRequestTopicPartition{{Partition: 0, Timestamp: -1, MaxNumOffsets: 3}}}}
	add(lo)
}

// A simple consumer of Kafka 0.8.2 commits with OffsetCommit v0/v1 and
// reads back with OffsetFetch v0/v1.
func TestLegacyOffsetCommitFetch(t *testing.T) {
	ts := startServer(t)
	c := dialRaw(t, ts.addr)
	const topic = "legacy-commits"
	ts.createTopic(t, topic, 1)
	for _, v := range []int16{0, 1} {
		group := fmt.Sprintf("legacy-group-%d", v)
		commit := kmsg.NewPtrOffsetCommitRequest()
		commit.Version = v
		commit.Group = group
		commit.Generation = -1
		ct := kmsg.NewOffsetCommitRequestTopic()
		ct.Topic = topic
		cp := kmsg.NewOffsetCommitRequestTopicPartition()
		cp.Offset, cp.Metadata = 42+int64(v), kmsg.StringPtr("old")
		ct.Partitions = append(ct.Partitions, cp)
		commit.Topics = append(commit.Topics, ct)
		if code := c.roundTrip(t, commit).(*kmsg.OffsetCommitResponse).Topics[0].Partitions[0].ErrorCode; code != 0 {
			t.Fatalf("OffsetCommit v%d: %v", v, kerr.ErrorForCode(code))
		}
		fetch := kmsg.NewPtrOffsetFetchRequest()
		fetch.Version = v
		fetch.Group = group
		ft := kmsg.NewOffsetFetchRequestTopic()
		ft.Topic, ft.Partitions = topic, []int32{0}
		fetch.Topics = append(fetch.Topics, ft)
		resp := c.roundTrip(t, fetch).(*kmsg.OffsetFetchResponse)
		if p := resp.Topics[0].Partitions[0]; p.ErrorCode != 0 || p.Offset != 42+int64(v) || p.Metadata == nil || *p.Metadata != "old" {
			t.Fatalf("OffsetFetch v%d: %v offset %d", v, kerr.ErrorForCode(p.ErrorCode), p.Offset)
		}
	}
}
