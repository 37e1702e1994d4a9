package sqs

import (
	"reflect"
	"testing"
	"time"

	"github.com/streambridge/bridge/mapping/recordbatch"
)

// A message keeps its body, attributes (types included), trace header and
// group through its record, and the record encodes and decodes as a Kafka
// batch like any other.
func TestMessageRecordRoundTrip(t *testing.T) {
	out := outgoing{
		body: "hello <world> \u00e9",
		attributes: MessageAttributes{
			"name":  {DataType: "String", StringValue: str("ada")},
			"age":   {DataType: "Number", StringValue: str("36")},
			"price": {DataType: "Number.float", StringValue: str("1.5")},
			"blob":  {DataType: "Binary", BinaryValue: []byte{0, 1, 0xff}},
			"gif":   {DataType: "Binary.gif", BinaryValue: []byte("GIF89a")},
		},
		system:     MessageSystemAttributes{AWSTraceHeader: {DataType: "String", StringValue: str("Root=1-5759e988-bd862e3fe1be46a994272793")}},
		groupID:    "g1",
		delayUntil: 1_796_000_000_000,
	}
	rec := out.record()
	rec.Timestamp = time.UnixMilli(1_795_999_999_000)
	raw, err := recordbatch.Encode(nil, []recordbatch.Record{rec}, recordbatch.EncodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, recs, err := recordbatch.Decode(raw)
	if err != nil || len(recs) != 1 {
		t.Fatalf("decode: %v %v", recs, err)
	}
	if delayUntil(recs[0]) != out.delayUntil {
		t.Fatalf("delay header: %d", delayUntil(recs[0]))
	}
	in := messageOf(recs[0])
	if in.body != out.body || in.groupID != out.groupID || !in.sent.Equal(rec.Timestamp) {
		t.Fatalf("message: %+v", in)
	}
	if !reflect.DeepEqual(in.attributes, out.attributes) || !reflect.DeepEqual(in.system, out.system) {
		t.Fatalf("attributes\n got %+v %+v\nwant %+v %+v", in.attributes, in.system, out.attributes, out.system)
	}
	if MD5OfMessageAttributes(in.attributes) != MD5OfMessageAttributes(out.attributes) {
		t.Fatal("the attributes' MD5 changed through the record")
	}
}

// A Kafka record's headers read as String attributes where SQS would take
// the value as a string, and Binary ones otherwise; its key is the group.
func TestKafkaRecordAsMessage(t *testing.T) {
	m := messageOf(recordbatch.Record{
		Key:   []byte("order-7"),
		Value: []byte(`{"id":7}`),
		Headers: []recordbatch.Header{
			{Key: "trace", Value: []byte("abc")},
			{Key: "raw", Value: []byte{0xff, 0xfe}},
			{Key: "ctrl", Value: []byte{0x01}}, // UTF-8, but not a character SQS allows
			{Key: "empty", Value: nil},
		},
	})
	want := MessageAttributes{
		"trace": {DataType: "String", StringValue: str("abc")},
		"raw":   {DataType: "Binary", BinaryValue: []byte{0xff, 0xfe}},
		"ctrl":  {DataType: "Binary", BinaryValue: []byte{0x01}},
		"empty": {DataType: "Binary"},
	}
	if m.body != `{"id":7}` || m.groupID != "order-7" || !reflect.DeepEqual(m.attributes, want) || m.system != nil {
		t.Fatalf("Kafka record as a message: %+v", m)
	}
}

func TestMessageID(t *testing.T) {
	created := time.UnixMilli(1_796_000_000_000)
	a := messageID("q", created, 0, 5)
	if a != messageID("q", created, 0, 5) {
		t.Fatal("a message's id changed between reads")
	}
	if len(a) != 36 || a[14] != '8' {
		t.Fatalf("id %q is not a version 8 UUID", a)
	}
	seen := map[string]bool{a: true}
	for _, other := range []string{
		messageID("q", created, 0, 6), messageID("q", created, 1, 5),
		messageID("r", created, 0, 5), messageID("q", created.Add(time.Millisecond), 0, 5),
	} {
		if seen[other] {
			t.Fatalf("id %s repeats", other)
		}
		seen[other] = true
	}
}
