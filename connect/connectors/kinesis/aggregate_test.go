package kinesis

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/connecttest"
	"github.com/streambridge/bridge/mapping/recordbatch"
	"github.com/streambridge/bridge/store"
)

// userRecords makes n user records over a few keys, some with explicit
// hash keys.
func userRecords(prefix string, n int) []subRecord {
	out := make([]subRecord, n)
	for i := range out {
		out[i] = subRecord{PartitionKey: fmt.Sprintf("pk-%d", i%3), Data: []byte(fmt.Sprintf("%s-%03d", prefix, i))}
		if i%4 == 0 {
			out[i].ExplicitHashKey = fmt.Sprint(i * 1000)
		}
	}
	return out
}

// withChecksum appends the MD5 trailer to a magic-prefixed body.
func withChecksum(body []byte) []byte {
	sum := md5.Sum(body)
	return append(append(append([]byte{}, kplMagic...), body...), sum[:]...)
}

func TestDeaggregate(t *testing.T) {
	good := aggregate(userRecords("u", 5))
	badSum := bytes.Clone(good)
	badSum[len(badSum)-1] ^= 1
	var noData, badIndex, unknownField []byte
	noData = protowire.AppendTag(noData, aggPartitionKeyTable, protowire.BytesType)
	noData = protowire.AppendString(noData, "k")
	rec := protowire.AppendTag(nil, recPartitionKeyIndex, protowire.VarintType)
	rec = protowire.AppendVarint(rec, 0)
	noData = protowire.AppendTag(noData, aggRecords, protowire.BytesType)
	noData = protowire.AppendBytes(noData, rec)
	badIndex = protowire.AppendTag(nil, aggRecords, protowire.BytesType)
	badIndex = protowire.AppendBytes(badIndex, append(rec, protowire.AppendBytes(protowire.AppendTag(nil, recData, protowire.BytesType), []byte("d"))...))
	unknownField = protowire.AppendTag(nil, 9, protowire.VarintType)
	unknownField = protowire.AppendVarint(unknownField, 7)
	unknownField = append(unknownField, good[len(kplMagic):len(good)-md5.Size]...)

	tests := []struct {
		name string
		data []byte
		want []subRecord
		err  string
	}{
		{"aggregate", good, userRecords("u", 5), ""},
		{"one empty record", aggregate([]subRecord{{PartitionKey: "k", Data: []byte{}}}), []subRecord{{PartitionKey: "k", Data: []byte{}}}, ""},
		{"unknown fields skipped", withChecksum(unknownField), userRecords("u", 5), ""},
		{"plain data", []byte("hello"), nil, "not a KPL aggregated record"},
		{"magic only", kplMagic, nil, "shorter than its magic and checksum"},
		{"checksum mismatch", badSum, nil, "checksum mismatch"},
		{"no records", withChecksum(nil), nil, "holds no user records"},
		{"record without data", withChecksum(noData), nil, "no data"},
		{"index outside table", withChecksum(badIndex), nil, "index 0 outside its table of 0"},
		{"truncated protobuf", withChecksum([]byte{0x1a, 0x10, 0x01}), nil, "aggregated record"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := deaggregate(tt.data)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// FuzzDeaggregate: any input decodes or is refused without a panic, and
// what decodes encodes back to records that decode the same. Each input is
// tried as it is and as a protobuf body with magic and a valid checksum
// around it, so the fuzzer gets past the MD5 check.
func FuzzDeaggregate(f *testing.F) {
	f.Add(aggregate(userRecords("seed", 3)))
	f.Add(aggregate(userRecords("seed", 3))[len(kplMagic) : len(aggregate(userRecords("seed", 3)))-md5.Size])
	f.Add(aggregate([]subRecord{{PartitionKey: "k", Data: nil}}))
	f.Add([]byte{0x1a, 0x02, 0x08, 0x00})
	f.Add([]byte{0x0a, 0x01, 'k', 0x1a, 0x04, 0x08, 0x00, 0x1a, 0x00})
	f.Add(append(bytes.Clone(kplMagic), 0xff))
	f.Add([]byte("plain"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, in := range [][]byte{data, withChecksum(data)} {
			subs, err := deaggregate(in)
			if err != nil {
				continue
			}
			again, err := deaggregate(aggregate(subs))
			if err != nil {
				t.Fatalf("re-encoded aggregate does not decode: %v", err)
			}
			if len(again) != len(subs) {
				t.Fatalf("%d records, re-encoded %d", len(subs), len(again))
			}
			for i := range subs {
				if again[i].PartitionKey != subs[i].PartitionKey || !bytes.Equal(again[i].Data, subs[i].Data) || again[i].ExplicitHashKey != subs[i].ExplicitHashKey {
					t.Fatalf("record %d: %+v, re-encoded %+v", i, subs[i], again[i])
				}
			}
		}
	})
}

// putAggregates writes KPL aggregates raw. Kinesalite stores what it is
// given; the bridge unpacks aggregates at PutRecords, so on the bridge they
// are appended to the store the way a Kafka producer's bytes are.
func putAggregates(t *testing.T, tg *target, stream string, blobs [][]byte) {
	t.Helper()
	if tg.store == nil {
		var recs []types.PutRecordsRequestEntry
		for _, b := range blobs {
			recs = append(recs, types.PutRecordsRequestEntry{PartitionKey: aws.String("agg"), Data: b})
		}
		tg.put(t, stream, recs)
		return
	}
	var recs []recordbatch.Record
	for _, b := range blobs {
		recs = append(recs, recordbatch.Record{Key: []byte("agg"), Value: b})
	}
	if _, err := tg.store.AppendToShard(t.Context(), stream, 0, recs, store.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestSourceDeaggregates reads aggregates into their user records, with
// sub-sequence numbers in the offsets, passes a plain record and a broken
// aggregate through, and resumes in the middle of an aggregate after a
// restart without repeating a user record.
func TestSourceDeaggregates(t *testing.T) {
	for _, kind := range targetKinds {
		t.Run(kind.name, func(t *testing.T) {
			tg := kind.start(t)
			tg.createStream(t, "agg", 1)
			broken := aggregate(userRecords("x", 2))
			broken[len(broken)-1] ^= 1
			putAggregates(t, tg, "agg", [][]byte{aggregate(userRecords("a", 10)), []byte("plain"), broken, aggregate(userRecords("b", 4))})

			var want []string
			for _, u := range userRecords("a", 10) {
				want = append(want, u.PartitionKey+"="+string(u.Data))
			}
			want = append(want, "agg=plain", "agg="+string(broken))
			for _, u := range userRecords("b", 4) {
				want = append(want, u.PartitionKey+"="+string(u.Data))
			}

			offsets := &connecttest.SourceContext{}
			cfg := tg.config(connect.Config{StreamConfig: "agg", TopicConfig: "out", RecordsLimitConfig: "1", HeadersConfig: "true"})
			run := startSource(t, cfg, 1, offsets)
			run.hold = true
			first := run.pollUntil(10) // the first aggregate, one GetRecords
			if len(first) != 10 {
				t.Fatalf("first aggregate gave %d records", len(first))
			}
			for k, r := range first {
				if connect.OffsetOf(r)["subsequence"] != int64(k) {
					t.Fatalf("record %d offset %v", k, connect.OffsetOf(r))
				}
				if h, _ := r.Header("kinesis.subsequence"); string(h) != fmt.Sprint(k) {
					t.Fatalf("record %d subsequence header %q", k, h)
				}
			}
			// Kafka acknowledged the first four user records, then the task died.
			run.held = run.held[:4]
			run.commit()
			run.hold = false
			run.restart()
			run.got = run.got[:4]
			got := run.pollUntil(len(want))
			var keys []string
			for _, r := range got {
				keys = append(keys, r.Key.(string)+"="+string(r.Value.([]byte)))
			}
			if !reflect.DeepEqual(keys, want) {
				t.Fatalf("records after the restart:\n%q\nwant\n%q", keys, want)
			}
			if _, ok := connect.OffsetOf(got[10])["subsequence"]; ok {
				t.Errorf("plain record has a subsequence: %v", connect.OffsetOf(got[10]))
			}
		})
	}
}

// TestSourceDeaggregateOff hands aggregates on as they are.
func TestSourceDeaggregateOff(t *testing.T) {
	tg := startBridge(t)
	tg.createStream(t, "raw", 1)
	blob := aggregate(userRecords("a", 3))
	putAggregates(t, tg, "raw", [][]byte{blob})
	run := startSource(t, tg.config(connect.Config{StreamConfig: "raw", TopicConfig: "out", DeaggregateConfig: "false"}), 1, nil)
	got := run.pollUntil(1)
	if len(got) != 1 || !bytes.Equal(got[0].Value.([]byte), blob) {
		t.Fatalf("got %d records, first %q", len(got), got[0].Value)
	}
}

// TestSourceDeaggregatesKPLLibrary reads aggregates built by AWS's own
// aggregation library (aws-kinesis-agg, in itest/node) and put on
// kinesalite, which stores them as they are.
func TestSourceDeaggregatesKPLLibrary(t *testing.T) {
	dir := needNodeModule(t, "aws-kinesis-agg")
	tg := startKinesalite(t)
	tg.createStream(t, "kpl", 1)
	var in bytes.Buffer
	var want []string
	for i := range 200 {
		pk, data := fmt.Sprintf("user-%d", i%9), fmt.Sprintf("kpl record %03d %s", i, strings.Repeat("x", i%50))
		fmt.Fprintf(&in, `{"pk":%q,"data":%q}`+"\n", pk, base64.StdEncoding.EncodeToString([]byte(data)))
		want = append(want, pk+"="+data)
	}
	// The library's RecordAggregator builds the aggregates (kinesis_agg.js
	// would put them too, but its SDK speaks HTTP/2, which kinesalite does
	// not); they go to kinesalite as they are.
	cmd := exec.Command("node", "-e", kplAggregateJS)
	cmd.Dir = dir
	cmd.Stdin = &in
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("aws-kinesis-agg: %v", err)
	}
	var blobs [][]byte
	for _, line := range strings.Fields(string(out)) {
		b, err := base64.StdEncoding.DecodeString(line)
		if err != nil {
			t.Fatal(err)
		}
		blobs = append(blobs, b)
	}
	if len(blobs) == 0 || len(blobs) >= 200 || !isAggregate(blobs[0]) {
		t.Fatalf("the library made %d records: it did not aggregate", len(blobs))
	}
	putAggregates(t, tg, "kpl", blobs)
	run := startSource(t, tg.config(connect.Config{StreamConfig: "kpl", TopicConfig: "out"}), 1, nil)
	var got []string
	for _, r := range run.pollUntil(200) {
		got = append(got, r.Key.(string)+"="+string(r.Value.([]byte)))
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("de-aggregated:\n%q\nwant\n%q", got, want)
	}
}

// kplAggregateJS reads {"pk","data"} lines and writes each aggregated
// record aws-kinesis-agg's RecordAggregator makes of them, base64, a line each.
const kplAggregateJS = `
const agg = require('aws-kinesis-agg')
const lines = require('fs').readFileSync(0, 'utf8').split('\n').filter(l => l.trim())
const users = lines.map(l => { const r = JSON.parse(l); return { partitionKey: r.pk, data: Buffer.from(r.data, 'base64') } })
const out = []
new agg.RecordAggregator(4096).aggregateRecords(users, true, (err, rec) => {
  if (err) throw err
  out.push(Buffer.from(rec.data).toString('base64'))
})
process.stdout.write(out.join('\n') + '\n')
`
