package distributed

import (
	"bytes"
	"encoding/hex"
	"reflect"
	"strings"
	"testing"

	"github.com/streambridge/bridge/connect/runtime"
)

// hexBytes reads hex with spaces and | separators, so the golden values
// below can be laid out field by field.
func hexBytes(t testing.TB, s string) []byte {
	t.Helper()
	s = strings.NewReplacer(" ", "", "|", "", "\n", "", "\t", "").Replace(s)
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func hexString(s string) string { return hex.EncodeToString([]byte(s)) }

// The golden bytes follow Kafka's schema definitions field by field
// (ConnectProtocol: CONNECT_PROTOCOL_HEADER_SCHEMA, CONFIG_STATE_V0,
// ASSIGNMENT_V0, CONNECTOR_ASSIGNMENT_V0; IncrementalCooperativeConnectProtocol:
// ALLOCATION_V1, ASSIGNMENT_V1): INT16/INT32/INT64 big-endian, STRING as
// INT16 length + bytes, ARRAY as INT32 count, NULLABLE_BYTES and nullable
// arrays -1 when null.
func TestWorkerStateGolden(t *testing.T) {
	url := "http://w1:8083"
	tests := []struct {
		name    string
		version int16
		state   WorkerState
		golden  string
	}{
		{"v0", 0, WorkerState{URL: url, ConfigOffset: 5},
			"0000 | 000e" + hexString(url) + "| 0000000000000005"},
		{"v1 no allocation", 1, WorkerState{URL: url, ConfigOffset: 5},
			"0001 | 000e" + hexString(url) + "| 0000000000000005 | ffffffff"},
		{"v2 with allocation", 2, WorkerState{URL: url, ConfigOffset: -1, Assignment: &Assignment{
			Leader: "L", LeaderURL: "u", ConfigOffset: 7, Connectors: []string{"c"}, Tasks: []runtime.TaskID{{Connector: "c", Task: 0}}}},
			"0002 | 000e" + hexString(url) + "| ffffffffffffffff | 0000002d" +
				// allocation: version 2, error 0, leader "L", leader url "u", offset 7
				"0002 | 0000 | 0001 4c | 0001 75 | 0000000000000007" +
				// assignment: 1 connector "c" with [-1, 0]
				"00000001 | 0001 63 | 00000002 | ffffffff | 00000000" +
				// revoked: empty array, delay 0
				"00000000 | 00000000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := hexBytes(t, tt.golden)
			got := EncodeWorkerState(tt.version, tt.state)
			if !bytes.Equal(got, want) {
				t.Fatalf("encoded\n%x\nwant\n%x", got, want)
			}
			back, err := DecodeWorkerState(got)
			if err != nil {
				t.Fatal(err)
			}
			if back.URL != tt.state.URL || back.ConfigOffset != tt.state.ConfigOffset || (back.Assignment == nil) != (tt.state.Assignment == nil) {
				t.Fatalf("decoded %+v", back)
			}
		})
	}
}

func TestAssignmentGolden(t *testing.T) {
	a := Assignment{Leader: "leader-1", LeaderURL: "http://l:8083", ConfigOffset: 42,
		Connectors: []string{"src"}, Tasks: []runtime.TaskID{{Connector: "src", Task: 0}, {Connector: "sink", Task: 1}},
		RevokedTasks: []runtime.TaskID{{Connector: "sink", Task: 0}}, Delay: 300000}
	common := "0000 | 0008" + hexString("leader-1") + "| 000d" + hexString("http://l:8083") + "| 000000000000002a" +
		"00000002 | 0003" + hexString("src") + "| 00000002 ffffffff 00000000" +
		"| 0004" + hexString("sink") + "| 00000001 00000001"
	tests := []struct {
		name    string
		version int16
		golden  string
	}{
		{"v0", 0, "0000 |" + common},
		{"v1", 1, "0001 |" + common + "| 00000001 | 0004" + hexString("sink") + "| 00000001 00000000 | 000493e0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := a
			in.Version = tt.version
			got := EncodeAssignment(in)
			if want := hexBytes(t, tt.golden); !bytes.Equal(got, want) {
				t.Fatalf("encoded\n%x\nwant\n%x", got, want)
			}
			back, err := DecodeAssignment(got)
			if err != nil {
				t.Fatal(err)
			}
			if tt.version == 0 {
				in.RevokedTasks, in.Delay = nil, 0
			}
			if !reflect.DeepEqual(back, in) {
				t.Fatalf("decoded %+v\nwant %+v", back, in)
			}
		})
	}
}

// Kafka's v1 schemas tolerate missing trailing fields: a v1 assignment
// that ends after the assigned connectors decodes with no revocations and
// no delay; null arrays decode as empty.
func TestAssignmentToleratesMissingFields(t *testing.T) {
	b := hexBytes(t, "0001 0000 0001 4c 0001 75 0000000000000003 ffffffff")
	a, err := DecodeAssignment(b)
	if err != nil {
		t.Fatal(err)
	}
	if a.Leader != "L" || a.ConfigOffset != 3 || a.Connectors != nil || a.RevokedTasks != nil || a.Delay != 0 {
		t.Fatalf("%+v", a)
	}
}

func TestDecodeRefusesBadInput(t *testing.T) {
	tests := []struct {
		name string
		in   string
		err  string
	}{
		{"empty", "", "not enough bytes"},
		{"negative version", "ffff 0000", "Unsupported subscription version: -1"},
		{"short string", "0000 0005 41", "not enough bytes"},
		{"null string", "0000 0000 ffff", "non-nullable string"},
		{"huge array", "0000 0000 0000 0000 0000000000000000 7fffffff", "array length"},
		{"v0 null array", "0000 0000 0000 0000 0000000000000000 ffffffff", "array length"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeAssignment(hexBytes(t, tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("err %v, want %q", err, tt.err)
			}
		})
	}
	if _, err := DecodeWorkerState(hexBytes(t, "0001 0001 41 0000000000000000 00000010 00")); err == nil {
		t.Fatal("a truncated allocation decoded")
	}
}

func FuzzDecodeAssignment(f *testing.F) {
	f.Add(EncodeAssignment(Assignment{Version: 1, Leader: "l", Connectors: []string{"a"}, RevokedTasks: []runtime.TaskID{{Connector: "b", Task: 2}}, Delay: 5}))
	f.Add(EncodeAssignment(Assignment{Version: 0, Leader: "l", Tasks: []runtime.TaskID{{Connector: "b", Task: 2}}}))
	f.Add([]byte{0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := DecodeAssignment(b)
		if err != nil {
			return
		}
		// What decodes re-encodes and decodes to the same assignment.
		again, err := DecodeAssignment(EncodeAssignment(a))
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if a.Version == 0 || len(again.Connectors)+len(again.Tasks) != len(a.Connectors)+len(a.Tasks) {
			return
		}
		if !sameWork(again.Connectors, again.Tasks, a.Connectors, a.Tasks) {
			t.Fatalf("round trip %+v → %+v", a, again)
		}
	})
}

func FuzzDecodeWorkerState(f *testing.F) {
	f.Add(EncodeWorkerState(0, WorkerState{URL: "http://x", ConfigOffset: 3}))
	f.Add(EncodeWorkerState(2, WorkerState{URL: "http://x", ConfigOffset: 3, Assignment: &Assignment{Leader: "l", Connectors: []string{"c"}}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := DecodeWorkerState(b)
		if err != nil {
			return
		}
		if _, err := DecodeWorkerState(EncodeWorkerState(2, s)); err != nil {
			t.Fatalf("re-decode: %v", err)
		}
	})
}

func sameWork(c1 []string, t1 []runtime.TaskID, c2 []string, t2 []runtime.TaskID) bool {
	a, b := workOf(c1, t1), workOf(c2, t2)
	return reflect.DeepEqual(a.connList(), b.connList()) && reflect.DeepEqual(a.taskList(), b.taskList())
}
