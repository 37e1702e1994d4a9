package distributed

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/streambridge/bridge/connect/runtime"
)

// The group protocol names a worker offers in JoinGroup, most preferred
// first (Kafka's ConnectProtocolCompatibility), and the version each writes
// in its metadata header.
const (
	ProtocolSessioned  = "sessioned"  // incremental cooperative, version 2 (KIP-507)
	ProtocolCompatible = "compatible" // incremental cooperative, version 1 (KIP-415)
	ProtocolEager      = "default"    // eager, version 0
)

// ProtocolType is the JoinGroup protocol type of Connect workers.
const ProtocolType = "connect"

// ConnectorTask is the task number that stands for the connector itself in
// an assignment's task list (Kafka's ConnectProtocol.CONNECTOR_TASK).
const ConnectorTask = -1

// Assignment errors (ConnectProtocol.Assignment).
const (
	NoError        int16 = 0
	ConfigMismatch int16 = 1 // the leader was behind the config topic: read to its end and rejoin
)

// protocolVersion maps a protocol name to its metadata version.
func protocolVersion(name string) (int16, bool) {
	switch name {
	case ProtocolSessioned:
		return 2, true
	case ProtocolCompatible:
		return 1, true
	case ProtocolEager:
		return 0, true
	}
	return 0, false
}

// WorkerState is a member's JoinGroup metadata: where its REST API answers,
// how far it has read the config topic and (versions 1 and 2) what it runs
// now, the assignment it accumulated (nil: nothing).
type WorkerState struct {
	URL          string
	ConfigOffset int64
	Assignment   *Assignment
}

// Assignment is what the leader gives one member in SyncGroup. In the eager
// protocol Connectors and Tasks are everything the member runs; in the
// incremental ones they are what it starts now, Revoked* what it stops, and
// Delay (ms) when it must rejoin because lost work waits for its owner.
type Assignment struct {
	Version           int16
	Error             int16
	Leader            string
	LeaderURL         string
	ConfigOffset      int64
	Connectors        []string
	Tasks             []runtime.TaskID
	RevokedConnectors []string
	RevokedTasks      []runtime.TaskID
	Delay             int32
}

// empty reports whether a carries nothing a peer needs: Kafka sends null
// allocation bytes for it.
func (a *Assignment) empty() bool {
	return a == nil || (a.Leader == "" && a.LeaderURL == "" && len(a.Connectors) == 0 && len(a.Tasks) == 0 &&
		len(a.RevokedConnectors) == 0 && len(a.RevokedTasks) == 0 && a.Delay == 0 && a.Error == 0)
}

// EncodeWorkerState writes metadata in the format of version v: 0 is
// ConnectProtocol's (version, url, config offset), 1 and 2 add the
// allocation, the current assignment encoded as in SyncGroup (nullable
// bytes), as IncrementalCooperativeConnectProtocol does.
func EncodeWorkerState(v int16, s WorkerState) []byte {
	b := appendInt16(nil, v)
	b = appendString(b, s.URL)
	b = appendInt64(b, s.ConfigOffset)
	if v == 0 {
		return b
	}
	if s.Assignment.empty() {
		return appendInt32(b, -1)
	}
	a := *s.Assignment
	a.Version = v
	enc := EncodeAssignment(a)
	b = appendInt32(b, int32(len(enc)))
	return append(b, enc...)
}

// DecodeWorkerState reads metadata of any version. Trailing fields a
// version 0 member leaves out take their defaults, as Kafka's schemas that
// tolerate missing fields do; bytes after the known fields are ignored.
func DecodeWorkerState(b []byte) (WorkerState, error) {
	r := reader{b: b}
	v := r.int16()
	if r.err == nil && v < 0 {
		return WorkerState{}, fmt.Errorf("Unsupported subscription version: %d", v)
	}
	s := WorkerState{URL: r.string(), ConfigOffset: r.int64()}
	if r.err != nil {
		return WorkerState{}, fmt.Errorf("connect worker metadata: %w", r.err)
	}
	if v == 0 || r.done() {
		return s, nil
	}
	alloc, isNull := r.bytes()
	if r.err != nil {
		return WorkerState{}, fmt.Errorf("connect worker metadata: %w", r.err)
	}
	if !isNull {
		a, err := DecodeAssignment(alloc)
		if err != nil {
			return WorkerState{}, fmt.Errorf("connect worker metadata allocation: %w", err)
		}
		s.Assignment = &a
	}
	return s, nil
}

// EncodeAssignment writes a in the format of a.Version: version 0 is
// ConnectProtocol's ASSIGNMENT_V0 (error, leader, leader url, config offset,
// connector assignments); 1 and 2 add the revoked connector assignments and
// the delay. A connector's entry lists ConnectorTask first when the
// connector itself is included, then its tasks, in the order given.
func EncodeAssignment(a Assignment) []byte {
	b := appendInt16(nil, a.Version)
	b = appendInt16(b, a.Error)
	b = appendString(b, a.Leader)
	b = appendString(b, a.LeaderURL)
	b = appendInt64(b, a.ConfigOffset)
	b = appendConnectorTasks(b, a.Connectors, a.Tasks)
	if a.Version == 0 {
		return b
	}
	b = appendConnectorTasks(b, a.RevokedConnectors, a.RevokedTasks)
	return appendInt32(b, a.Delay)
}

// DecodeAssignment reads an assignment of any version.
func DecodeAssignment(b []byte) (Assignment, error) {
	r := reader{b: b}
	a := Assignment{Version: r.int16()}
	if r.err == nil && a.Version < 0 {
		return Assignment{}, fmt.Errorf("Unsupported subscription version: %d", a.Version)
	}
	a.Error = r.int16()
	a.Leader = r.string()
	a.LeaderURL = r.string()
	a.ConfigOffset = r.int64()
	a.Connectors, a.Tasks = r.connectorTasks(a.Version > 0)
	if a.Version > 0 && !r.done() {
		a.RevokedConnectors, a.RevokedTasks = r.connectorTasks(true)
		if !r.done() {
			a.Delay = r.int32()
		}
	}
	if r.err != nil {
		return Assignment{}, fmt.Errorf("connect assignment: %w", r.err)
	}
	return a, nil
}

// appendConnectorTasks groups connectors and tasks by connector, in order
// of first appearance, as Kafka's asMap does.
func appendConnectorTasks(b []byte, connectors []string, tasks []runtime.TaskID) []byte {
	var order []string
	ids := map[string][]int32{}
	add := func(c string, id int32) {
		if _, ok := ids[c]; !ok {
			order = append(order, c)
		}
		ids[c] = append(ids[c], id)
	}
	seen := map[string]bool{}
	for _, c := range connectors {
		if !seen[c] {
			seen[c] = true
			add(c, ConnectorTask)
		}
	}
	for _, t := range tasks {
		add(t.Connector, int32(t.Task))
	}
	b = appendInt32(b, int32(len(order)))
	for _, c := range order {
		b = appendString(b, c)
		b = appendInt32(b, int32(len(ids[c])))
		for _, id := range ids[c] {
			b = appendInt32(b, id)
		}
	}
	return b
}

func appendInt16(b []byte, v int16) []byte { return binary.BigEndian.AppendUint16(b, uint16(v)) }
func appendInt32(b []byte, v int32) []byte { return binary.BigEndian.AppendUint32(b, uint32(v)) }
func appendInt64(b []byte, v int64) []byte { return binary.BigEndian.AppendUint64(b, uint64(v)) }

// appendString writes Kafka's STRING: int16 length, UTF-8 bytes. Longer
// strings cannot be written; they are cut, which no worker URL or
// connector name reaches (Kafka refuses them too).
func appendString(b []byte, s string) []byte {
	if len(s) > math.MaxInt16 {
		s = s[:math.MaxInt16]
	}
	b = appendInt16(b, int16(len(s)))
	return append(b, s...)
}

var errShort = errors.New("not enough bytes")

// reader reads Kafka's protocol primitives; the first error sticks and
// every later read returns zero values.
type reader struct {
	b   []byte
	err error
}

func (r *reader) done() bool { return r.err != nil || len(r.b) == 0 }

func (r *reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b) {
		r.err = errShort
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) int16() int16 {
	if p := r.take(2); p != nil {
		return int16(binary.BigEndian.Uint16(p))
	}
	return 0
}

func (r *reader) int32() int32 {
	if p := r.take(4); p != nil {
		return int32(binary.BigEndian.Uint32(p))
	}
	return 0
}

func (r *reader) int64() int64 {
	if p := r.take(8); p != nil {
		return int64(binary.BigEndian.Uint64(p))
	}
	return 0
}

func (r *reader) string() string {
	n := r.int16()
	if r.err == nil && n < 0 {
		r.err = fmt.Errorf("non-nullable string has length %d", n)
		return ""
	}
	return string(r.take(int(n)))
}

func (r *reader) bytes() (b []byte, isNull bool) {
	n := r.int32()
	if r.err != nil {
		return nil, false
	}
	if n == -1 {
		return nil, true
	}
	if n < 0 {
		r.err = fmt.Errorf("bytes have length %d", n)
		return nil, false
	}
	return r.take(int(n)), false
}

// count reads an array length; -1 (null) is allowed when nullable. A count
// larger than the bytes left could hold is refused before allocating.
func (r *reader) count(nullable bool, minSize int) int {
	n := r.int32()
	if r.err != nil {
		return 0
	}
	if n == -1 && nullable {
		return 0
	}
	if n < 0 || int64(n)*int64(minSize) > int64(len(r.b)) {
		r.err = fmt.Errorf("array length %d", n)
		return 0
	}
	return int(n)
}

func (r *reader) connectorTasks(nullable bool) (connectors []string, tasks []runtime.TaskID) {
	n := r.count(nullable, 6)
	for i := 0; i < n && r.err == nil; i++ {
		c := r.string()
		m := r.count(false, 4)
		for j := 0; j < m && r.err == nil; j++ {
			id := r.int32()
			if id == ConnectorTask {
				connectors = append(connectors, c)
			} else {
				tasks = append(tasks, runtime.TaskID{Connector: c, Task: int(id)})
			}
		}
	}
	return connectors, tasks
}
