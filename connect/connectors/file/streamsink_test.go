package file

import (
	"context"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/connecttest"
)

func TestFileStreamSinkWritesAndFsyncs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.txt")
	appendFile(t, path, "existing\n") // Kafka's task appends
	task := &streamSinkTask{}
	if err := task.Start(context.Background(), &connecttest.SinkContext{}, connect.Config{FileConfig: path}); err != nil {
		t.Fatal(err)
	}
	defer task.Stop()
	// Count the fsyncs, and check that the lines were written before each.
	syncs := 0
	realSync := task.sync
	task.sync = func() error {
		syncs++
		return realSync()
	}

	pointSchema := &connect.Schema{Type: connect.TypeStruct, Fields: []connect.Field{
		{Name: "x", Index: 0, Schema: &connect.Schema{Type: connect.TypeInt32}},
		{Name: "label", Index: 1, Schema: &connect.Schema{Type: connect.TypeString, Optional: true}},
		{Name: "y", Index: 2, Schema: &connect.Schema{Type: connect.TypeFloat64}},
	}}
	point := connect.NewStruct(pointSchema)
	point.Put("x", int32(1))
	point.Put("y", 2.5)
	decimal := &connect.Schema{Type: connect.TypeBytes, Name: connect.LogicalDecimal, Parameters: map[string]string{"scale": "2"}}
	recs := []connect.Record{
		{Value: "plain text"},
		{Value: nil},
		{Value: []byte("raw bytes")},
		{Value: int64(42)},
		{Value: 1.0},
		{Value: 1e10},
		{Value: float32(0.5)},
		{Value: true},
		{Value: []any{"a", int32(2)}},
		{Value: map[string]any{"b": int32(2), "a": "x"}},
		{ValueSchema: pointSchema, Value: point},
		{ValueSchema: decimal, Value: big.NewInt(-12345)},
		{Value: time.Unix(0, 0)},
	}
	tp := connect.TopicPartition{Topic: "t", Partition: 0}
	if err := task.Put(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	// In the file when Put returns, as Kafka's PrintStream writes through;
	// not yet fsynced.
	if b, err := os.ReadFile(path); err != nil || !strings.HasPrefix(string(b), "existing\nplain text\nnull\n") || syncs != 0 {
		t.Errorf("after Put: %q, %v, %d fsyncs; want the lines written, no fsync", b, err, syncs)
	}
	offsets, err := task.PreCommit(context.Background(), map[connect.TopicPartition]int64{tp: 13})
	if err != nil || offsets[tp] != 13 {
		t.Fatalf("PreCommit = %v, %v", offsets, err)
	}
	if syncs != 1 {
		t.Fatalf("PreCommit fsynced %d times, want 1", syncs)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := "existing\nplain text\nnull\nraw bytes\n42\n1.0\n1.0E10\n0.5\ntrue\n[a, 2]\n{a=x, b=2}\nStruct{x=1,y=2.5}\n-123.45\nThu Jan 01 00:00:00 UTC 1970\n"
	if string(got) != want {
		t.Fatalf("file = %q\nwant   %q", got, want)
	}
	if err := task.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := task.Put(context.Background(), recs[:1]); err == nil {
		t.Fatal("Put after Stop succeeded")
	}
}

func TestFileStreamSinkCannotCreate(t *testing.T) {
	task := &streamSinkTask{}
	path := filepath.Join(t.TempDir(), "missing-dir", "out.txt")
	err := task.Start(context.Background(), &connecttest.SinkContext{}, connect.Config{FileConfig: path})
	if err == nil {
		t.Fatal("Start with a file in a missing directory succeeded")
	}
}

// Numbers are printed as Java prints them: doubles by Double.toString,
// Decimals plainly (convert's shared helpers).
func TestJavaStringNumbers(t *testing.T) {
	decimal := func(scale string) *connect.Schema {
		return &connect.Schema{Name: connect.LogicalDecimal, Parameters: map[string]string{"scale": scale}}
	}
	for _, c := range []struct {
		schema *connect.Schema
		v      any
		want   string
	}{
		{nil, 0.0, "0.0"}, {nil, 1.0, "1.0"}, {nil, -2.5, "-2.5"}, {nil, 1e7, "1.0E7"}, {nil, 1.5e-4, "1.5E-4"},
		{nil, 0.001, "0.001"}, {nil, 123456.789, "123456.789"}, {nil, float32(0.1), "0.1"},
		{decimal("2"), big.NewInt(156), "1.56"}, {decimal("4"), big.NewInt(-156), "-0.0156"},
		{decimal("-2"), big.NewInt(156), "15600"}, {nil, big.NewInt(7), "7"},
	} {
		var sb strings.Builder
		javaString(&sb, c.schema, c.v)
		if sb.String() != c.want {
			t.Errorf("javaString(%v) = %q, want %q", c.v, sb.String(), c.want)
		}
	}
}
