package kafka

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streambridge/bridge/mapping/recordbatch"
	"github.com/streambridge/bridge/store"
)

// Every codec a producer may use is stored as sent and read back intact:
// keys, values (null and empty included), headers and timestamps.
func TestProduceConsumeCodecs(t *testing.T) {
	codecs := []struct {
		name  string
		codec kgo.CompressionCodec
	}{
		{"none", kgo.NoCompression()},
		{"gzip", kgo.GzipCompression()},
		{"snappy", kgo.SnappyCompression()},
		{"lz4", kgo.Lz4Compression()},
		{"zstd", kgo.ZstdCompression()},
	}
	ts := startServer(t)
	for _, c := range codecs {
		t.Run(c.name, func(t *testing.T) {
			topic := "codec-" + c.name
			ts.createTopic(t, topic, 3)
			ctx := testContext(t)
			cl := ts.client(t, kgo.ProducerBatchCompression(c.codec), kgo.DefaultProduceTopic(topic), kgo.ProducerLinger(5*time.Millisecond))
			want := make(map[string]*kgo.Record)
			var wg sync.WaitGroup
			base := time.UnixMilli(1700000000000)
			for i := range 300 {
				r := &kgo.Record{
					Key:       []byte(fmt.Sprintf("key-%03d", i)),
					Value:     bytes.Repeat([]byte{byte('a' + i%26)}, i*7),
					Timestamp: base.Add(time.Duration(i) * time.Millisecond),
					Headers:   []kgo.RecordHeader{{Key: "i", Value: []byte(fmt.Sprint(i))}, {Key: "empty", Value: nil}},
				}
				switch i {
				case 1:
					r.Value = nil // tombstone
				case 2:
					r.Key = nil
					r.Key = []byte("key-002")
					r.Headers = nil
				}
				want[string(r.Key)] = r
				wg.Add(1)
				cl.Produce(ctx, r, func(r *kgo.Record, err error) {
					defer wg.Done()
					if err != nil {
						t.Errorf("produce %s: %v", r.Key, err)
					}
				})
			}
			wg.Wait()
			got := ts.consumeAll(t, topic, len(want))
			lastOffset := map[int32]int64{}
			for _, r := range got {
				w := want[string(r.Key)]
				if w == nil {
					t.Fatalf("unexpected record %q", r.Key)
				}
				if (w.Value == nil) != (r.Value == nil) || !bytes.Equal(w.Value, r.Value) {
					t.Errorf("%s: value of %d bytes (nil %v), want %d (nil %v)", r.Key, len(r.Value), r.Value == nil, len(w.Value), w.Value == nil)
				}
				if !r.Timestamp.Equal(w.Timestamp) {
					t.Errorf("%s: timestamp %v, want %v", r.Key, r.Timestamp, w.Timestamp)
				}
				if len(r.Headers) != len(w.Headers) {
					t.Errorf("%s: %d headers, want %d", r.Key, len(r.Headers), len(w.Headers))
				}
				for i := range min(len(r.Headers), len(w.Headers)) {
					if r.Headers[i].Key != w.Headers[i].Key || !bytes.Equal(r.Headers[i].Value, w.Headers[i].Value) {
						t.Errorf("%s: header %d = %q:%q, want %q:%q", r.Key, i, r.Headers[i].Key, r.Headers[i].Value, w.Headers[i].Key, w.Headers[i].Value)
					}
				}
				if last, ok := lastOffset[r.Partition]; ok && r.Offset != last+1 {
					t.Errorf("partition %d: offset %d after %d", r.Partition, r.Offset, last)
				}
				lastOffset[r.Partition] = r.Offset
				delete(want, string(r.Key))
			}
			if len(want) > 0 {
				t.Errorf("%d records not consumed", len(want))
			}
		})
	}
}

// A topic with message.timestamp.type=LogAppendTime gets the arrival time.
func TestProduceLogAppendTime(t *testing.T) {
	ts := startServer(t)
	_, err := ts.store.CreateStream(context.Background(), store.StreamConfig{
		Name: "lat", ShardCount: 1, Config: newTopicConfig(map[string]string{cfgTimestampType: timestampLogAppend}),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	before := time.Now().Truncate(time.Millisecond)
	cl := ts.client(t, kgo.DefaultProduceTopic("lat"))
	if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte("x"), Timestamp: time.UnixMilli(5)}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	r := ts.consumeAll(t, "lat", 1)[0]
	if r.Timestamp.Before(before) || r.Timestamp.After(time.Now()) || r.Attrs.TimestampType() != 1 {
		t.Errorf("timestamp %v type %d, want log append time after %v", r.Timestamp, r.Attrs.TimestampType(), before)
	}
}

// Refusals are per partition: the other partitions of the request are
// stored as if alone.
func TestProduceRefusals(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.AutoCreateTopics = false })
	ts.createTopic(t, "t", 2)
	good := encodeBatch(t, recordbatch.EncodeOptions{}, "ok")
	corrupt := slices.Clone(good)
	corrupt[len(corrupt)-1] ^= 0xff
	big := encodeBatch(t, recordbatch.EncodeOptions{}, string(make([]byte, 1100000)))
	bigZstd := encodeBatch(t, recordbatch.EncodeOptions{Codec: recordbatch.Zstd}, string(make([]byte, 5<<20)))
	magic1 := slices.Clone(good)
	magic1[16] = 1
	twoBatches := append(slices.Clone(good), good...)
	txn := encodeBatch(t, recordbatch.EncodeOptions{Idempotent: true, Transactional: true, ProducerID: 9, BaseSequence: 0}, "t")

	tests := []struct {
		name      string
		topic     string
		partition int32
		batch     []byte
		want      *kerr.Error
	}{
		{"too large", "t", 0, big, kerr.MessageTooLarge},
		{"corrupt crc", "t", 0, corrupt, kerr.CorruptMessage},
		{"magic 1", "t", 0, magic1, kerr.InvalidRecord},
		{"two batches", "t", 0, twoBatches, kerr.CorruptMessage},
		{"truncated", "t", 0, good[:len(good)-3], kerr.CorruptMessage},
		{"no records", "t", 0, nil, kerr.CorruptMessage},
		{"transactional without transactional id", "t", 0, txn, kerr.TransactionalIDAuthorizationFailed},
		{"unknown topic", "nope", 0, good, kerr.UnknownTopicOrPartition},
		{"unknown partition", "t", 7, good, kerr.UnknownTopicOrPartition},
		{"compressed small enough", "t", 0, bigZstd, nil},
	}
	c := dialRaw(t, ts.addr)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The refused batch and a good one to partition 1, together.
			req := produceReq(9, -1, tt.topic, tt.partition, tt.batch)
			rt := kmsg.NewProduceRequestTopic()
			rt.Topic = "t"
			rp := kmsg.NewProduceRequestTopicPartition()
			rp.Partition = 1
			rp.Records = slices.Clone(good)
			rt.Partitions = append(rt.Partitions, rp)
			req.Topics = append(req.Topics, rt)
			_, hwBefore, _ := ts.store.Offsets(context.Background(), "t", 1)

			resp := c.roundTrip(t, req).(*kmsg.ProduceResponse)
			p := resp.Topics[0].Partitions[0]
			if err := kerr.ErrorForCode(p.ErrorCode); !errors.Is(err, tt.want) && (tt.want != nil || err != nil) {
				t.Errorf("error %v, want %v", err, tt.want)
			}
			if tt.want != nil && (p.ErrorMessage == nil || *p.ErrorMessage == "") && tt.want != kerr.UnknownTopicOrPartition {
				t.Errorf("no error message")
			}
			other := resp.Topics[1].Partitions[0]
			if other.ErrorCode != 0 || other.BaseOffset != hwBefore {
				t.Errorf("other partition: error %d base offset %d, want 0 and %d", other.ErrorCode, other.BaseOffset, hwBefore)
			}
		})
	}
	if _, hw, _ := ts.store.Offsets(context.Background(), "t", 0); hw != 1 {
		t.Errorf("partition 0 holds %d records, want only the compressed one", hw)
	}
}

// Request-level refusals: bad acks (transactional ids: txn_test.go).
func TestProduceRequestRefusals(t *testing.T) {
	ts := startServer(t)
	ts.createTopic(t, "t", 1)
	c := dialRaw(t, ts.addr)
	req := produceReq(7, 2, "t", 0, encodeBatch(t, recordbatch.EncodeOptions{}, "x"))
	if code := c.roundTrip(t, req).(*kmsg.ProduceResponse).Topics[0].Partitions[0].ErrorCode; code != kerr.InvalidRequiredAcks.Code {
		t.Errorf("acks=2: code %d", code)
	}
	if _, hw, _ := ts.store.Offsets(context.Background(), "t", 0); hw != 0 {
		t.Errorf("%d records stored, want none", hw)
	}
}

// kgo sees MESSAGE_TOO_LARGE for the oversized record only.
func TestProduceTooLargeWithClient(t *testing.T) {
	ts := startServer(t)
	ts.createTopic(t, "big", 1)
	ctx := testContext(t)
	// The client's own limit is raised so the broker is the one to refuse.
	cl := ts.client(t, kgo.DefaultProduceTopic("big"), kgo.ProducerBatchMaxBytes(8<<20), kgo.MaxBufferedBytes(64<<20))
	small := func(i int) *kgo.Record { return &kgo.Record{Value: []byte(fmt.Sprint("small-", i))} }
	for i := range 3 {
		if err := cl.ProduceSync(ctx, small(i)).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	huge := make([]byte, 2<<20)
	rand.Read(huge) // incompressible: the default codec must not shrink it under the limit
	err := cl.ProduceSync(ctx, &kgo.Record{Value: huge}).FirstErr()
	if !errors.Is(err, kerr.MessageTooLarge) {
		t.Fatalf("oversized record: %v, want MESSAGE_TOO_LARGE", err)
	}
	for i := 3; i < 6; i++ {
		if err := cl.ProduceSync(ctx, small(i)).FirstErr(); err != nil {
			t.Fatalf("after the refusal: %v", err)
		}
	}
	got := ts.consumeAll(t, "big", 6)
	for i, r := range got {
		if string(r.Value) != fmt.Sprint("small-", i) {
			t.Errorf("record %d = %q", i, r.Value)
		}
	}
}

// A merged-away partition refuses writes with a non-retriable code and a
// message, and stays readable.
func TestProduceRetiredPartition(t *testing.T) {
	ts := startServer(t)
	ts.createTopic(t, "m", 2)
	c := dialRaw(t, ts.addr)
	if resp := c.roundTrip(t, produceReq(9, -1, "m", 1, encodeBatch(t, recordbatch.EncodeOptions{}, "before"))).(*kmsg.ProduceResponse); resp.Topics[0].Partitions[0].ErrorCode != 0 {
		t.Fatal(kerr.ErrorForCode(resp.Topics[0].Partitions[0].ErrorCode))
	}
	st, err := ts.store.MergeShards(context.Background(), "m", 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	retired := int32(-1)
	for _, p := range st.Partitions {
		if p.Retired {
			retired = p.ID
		}
	}
	if retired < 0 {
		t.Fatal("no partition retired by the merge")
	}
	resp := c.roundTrip(t, produceReq(9, -1, "m", retired, encodeBatch(t, recordbatch.EncodeOptions{}, "after"))).(*kmsg.ProduceResponse)
	p := resp.Topics[0].Partitions[0]
	if p.ErrorCode != kerr.PolicyViolation.Code || p.ErrorMessage == nil {
		t.Errorf("produce to retired partition: %v %v", kerr.ErrorForCode(p.ErrorCode), p.ErrorMessage)
	}
	md := kmsg.NewPtrMetadataRequest()
	md.Version = 12
	md.Topics = []kmsg.MetadataRequestTopic{{Topic: kmsg.StringPtr("m")}}
	mresp := c.roundTrip(t, md).(*kmsg.MetadataResponse)
	if n := len(mresp.Topics[0].Partitions); n != 2 {
		t.Errorf("metadata lists %d partitions, want 2 (retired included)", n)
	}
}

// acks=0 gets no response: the next response on the connection is the next
// request's, and the records are stored.
func TestProduceAcksZero(t *testing.T) {
	ts := startServer(t)
	ts.createTopic(t, "z", 1)
	c := dialRaw(t, ts.addr)
	for range 3 {
		c.send(t, produceReq(9, 0, "z", 0, encodeBatch(t, recordbatch.EncodeOptions{}, "a", "b")))
	}
	md := kmsg.NewPtrMetadataRequest()
	md.Version = 1
	corr := c.send(t, md)
	resp := kmsg.NewPtrMetadataResponse()
	resp.Version = 1
	c.recv(t, corr, resp)
	if err := ts.store.Wait(testContext(t), "z", 0, 5); err != nil {
		t.Fatal(err)
	}
}

// Pipelined requests on one connection are answered in order, with
// increasing offsets, and do not wait for one another's sync.
func TestProducePipelinedOrder(t *testing.T) {
	ts := startServer(t)
	ts.createTopic(t, "p", 1)
	c := dialRaw(t, ts.addr)
	const n = 64 // more than maxInFlight: the reader must block, not fail
	corrs := make([]int32, n)
	go func() {
		for i := range n {
			corrs[i] = c.send(t, produceReq(9, -1, "p", 0, encodeBatch(t, recordbatch.EncodeOptions{}, fmt.Sprint(i), "x")))
		}
	}()
	for i := range n {
		body, err := c.readFrame()
		if err != nil {
			t.Fatal(err)
		}
		corr := int32(binary.BigEndian.Uint32(body))
		if corr != int32(i+1) {
			t.Fatalf("response %d has correlation id %d", i, corr)
		}
		resp := kmsg.NewPtrProduceResponse()
		resp.Version = 9
		if err := resp.ReadFrom(body[5:]); err != nil {
			t.Fatal(err)
		}
		if p := resp.Topics[0].Partitions[0]; p.ErrorCode != 0 || p.BaseOffset != int64(2*i) {
			t.Fatalf("response %d: error %d offset %d", i, p.ErrorCode, p.BaseOffset)
		}
	}
	got := ts.consumeAll(t, "p", 2*n)
	for i := range n {
		if string(got[2*i].Value) != fmt.Sprint(i) {
			t.Fatalf("record %d = %q", 2*i, got[2*i].Value)
		}
	}
}
