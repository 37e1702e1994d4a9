package itest

// Issue 14's old versions: Produce v0-2 and Fetch v0-3 with message format
// v0/v1, driven by the clients that use them (Debian's kcat and
// kafka-python at old api_versions), and the proof that librdkafka before
// 2.11.1, which compresses gzip, snappy and lz4 only for a server
// advertising Produce v0, now stores compressed batches.

import (
	"context"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"
)

// storedCodecs fetches partition 0 of topic up to end with a raw Fetch v12
// (batches as stored, never down-converted) and returns each batch's codec
// name.
func storedCodecs(t *testing.T, k *kafkaCluster, topic string, end int64) []string {
	t.Helper()
	names := map[int16]string{0: "none", 1: "gzip", 2: "snappy", 3: "lz4", 4: "zstd"}
	versions := kversion.Stable()
	versions.SetMaxKeyVersion(int16(kmsg.Fetch), 12)
	cl := k.client(kgo.MaxVersions(versions))
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), kafkaTimeout)
	defer cancel()
	var out []string
	for off := int64(0); off < end; {
		req := kmsg.NewPtrFetchRequest()
		req.ReplicaID, req.MaxWaitMillis, req.MaxBytes = -1, 100, 16<<20
		rt := kmsg.NewFetchRequestTopic()
		rt.Topic = topic
		rp := kmsg.NewFetchRequestTopicPartition()
		rp.FetchOffset, rp.PartitionMaxBytes, rp.LogStartOffset, rp.CurrentLeaderEpoch = off, 16<<20, -1, -1
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			t.Fatalf("raw fetch %s@%d: %v", topic, off, err)
		}
		part := resp.Topics[0].Partitions[0]
		if part.ErrorCode != 0 {
			t.Fatalf("raw fetch %s@%d: error code %d", topic, off, part.ErrorCode)
		}
		b := part.RecordBatches
		start := off
		for len(b) >= 61 {
			size := 12 + int(int32(binary.BigEndian.Uint32(b[8:12])))
			if size > len(b) {
				break
			}
			if b[16] != 2 {
				t.Fatalf("raw fetch %s@%d: magic %d batch", topic, off, b[16])
			}
			out = append(out, names[int16(binary.BigEndian.Uint16(b[21:23])&7)])
			off = int64(binary.BigEndian.Uint64(b)) + int64(int32(binary.BigEndian.Uint32(b[23:27]))) + 1
			b = b[size:]
		}
		if off == start {
			t.Fatalf("raw fetch %s@%d: no progress", topic, off)
		}
	}
	return out
}

// legacyValues are compressible, so no client sends them uncompressed
// when told to compress.
func legacyValues(n int) (keys, values []string) {
	for i := range n {
		keys = append(keys, fmt.Sprintf("k%d", i%3))
		values = append(values, fmt.Sprintf("value %d: %s", i, strings.Repeat("streambridge speaks old kafka ", 20)))
	}
	return keys, values
}

func checkStored(t *testing.T, k *kafkaCluster, topic string, n int, codec string) {
	t.Helper()
	if end := k.endOffsets(topic)[0]; end != int64(n) {
		t.Fatalf("%s: end offset %d, produced %d", topic, end, n)
	}
	for i, c := range storedCodecs(t, k, topic, int64(n)) {
		if c != codec {
			t.Fatalf("%s: stored batch %d is %s, want %s", topic, i, c, codec)
		}
	}
}

// TestKafkaLegacyKcat: kcat (Debian's, librdkafka 2.0.2) with -z produces
// batches stored compressed with that codec, and reads them back: once
// negotiating versions (Produce v3+ with v2 batches, compressed since the
// bridge advertises Produce v0), and once forced to the old protocols with
// broker.version.fallback (0.10.0: Produce v2 and Fetch v2, magic 1; 0.9.0:
// Produce v1 and Fetch v1, magic 0, lz4 with Kafka's broken frame header
// checksum).
func TestKafkaLegacyKcat(t *testing.T) {
	need(t, "kcat", checkKcat, installKcat)
	k := startKafka(t)
	const n = 20
	keys, values := legacyValues(n)
	var in strings.Builder
	for i := range n {
		fmt.Fprintf(&in, "%s:%s\n", keys[i], values[i])
	}
	for _, mode := range []struct {
		name   string
		args   []string
		codecs []string
	}{
		{"negotiated", nil, []string{"gzip", "snappy", "lz4", "zstd"}},
		{"0.10.0", []string{"-X", "api.version.request=false", "-X", "broker.version.fallback=0.10.0"}, []string{"none", "gzip", "snappy", "lz4"}},
		{"0.9.0", []string{"-X", "api.version.request=false", "-X", "broker.version.fallback=0.9.0"}, []string{"none", "gzip", "snappy", "lz4"}},
	} {
		for _, codec := range mode.codecs {
			t.Run(mode.name+"/"+codec, func(t *testing.T) {
				topic := "legacy-kcat-" + strings.ReplaceAll(mode.name, ".", "") + "-" + codec
				k.createTopic(topic, 1, nil)
				args := append([]string{"-b", k.addr, "-P", "-t", topic, "-p", "0", "-K:", "-z", codec}, mode.args...)
				runTool(t, []byte(in.String()), "kcat", args...)
				checkStored(t, k, topic, n, codec)

				args = append([]string{"-b", k.addr, "-C", "-q", "-e", "-t", topic, "-p", "0", "-o", "beginning", "-f", "%o %k:%s\n"}, mode.args...)
				out := strings.Split(strings.TrimSuffix(string(runTool(t, nil, "kcat", args...)), "\n"), "\n")
				if len(out) != n {
					t.Fatalf("kcat read %d records, want %d: %q", len(out), n, out)
				}
				for i, line := range out {
					if want := fmt.Sprintf("%d %s:%s", i, keys[i], values[i]); line != want {
						t.Fatalf("record %d: %q, want %q", i, line, want)
					}
				}
			})
		}
	}
}

// TestKafkaLegacyKafkaPython: kafka-python at api_version 0.10.0 (Produce
// v2, Fetch v2, magic 1), 0.9 (Produce v1, Fetch v1, magic 0) and 0.8.2
// (Produce v0, Fetch v0, ListOffsets v0) produces every codec it has there
// and reads it back; the batches are stored compressed.
func TestKafkaLegacyKafkaPython(t *testing.T) {
	need(t, "kafka-python", checkKafkaPython, installKafkaPython)
	const script = "python/kafkapython_legacy.py"
	readScript(t, script)
	k := startKafka(t)
	const n = 20
	keys, values := legacyValues(n)
	var recs []rec
	for i := range n {
		recs = append(recs, rec{Key: []byte(keys[i]), Value: []byte(values[i])})
	}
	recs[n-1].Value = nil // a tombstone
	timeout := strconv.Itoa(int(kafkaTimeout.Seconds()))
	for _, api := range []string{"0.10.0", "0.9", "0.8.2"} {
		for _, codec := range []string{"none", "gzip", "snappy", "lz4"} {
			t.Run(api+"/"+codec, func(t *testing.T) {
				if codec == "lz4" && api != "0.10.0" {
					need(t, "python3-xxhash", checkKafkaPythonXXHash, installXXHash)
				}
				topic := "legacy-python-" + strings.ReplaceAll(api, ".", "") + "-" + codec
				k.createTopic(topic, 1, nil)
				acks, err := decodeRecs(runTool(t, encodeRecs(recs), systemPython, script, "produce", "--bootstrap", k.addr,
					"--topic", topic, "--api-version", api, "--codec", codec, "--timeout", timeout))
				if err != nil || len(acks) != n {
					t.Fatalf("produce: %d acks, %v", len(acks), err)
				}
				for i, a := range acks {
					if a.Offset != int64(i) {
						t.Fatalf("record %d acked at offset %d", i, a.Offset)
					}
				}
				checkStored(t, k, topic, n, codec)

				got, err := decodeRecs(runTool(t, nil, systemPython, script, "consume", "--bootstrap", k.addr,
					"--topic", topic, "--api-version", api, "--end", strconv.Itoa(n), "--timeout", timeout))
				if err != nil || len(got) != n {
					t.Fatalf("consume: %d records, %v", len(got), err)
				}
				for i, r := range got {
					if r.Offset != int64(i) || !sameBytes(r.Key, recs[i].Key) || !sameBytes(r.Value, recs[i].Value) {
						t.Fatalf("record %d: offset %d %q=%q, want %q=%q", i, r.Offset, r.Key, r.Value, recs[i].Key, recs[i].Value)
					}
				}
			})
		}
	}
}
