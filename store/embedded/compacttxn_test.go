package embedded

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/streambridge/bridge/mapping/recordbatch"
	"github.com/streambridge/bridge/store"
)

// appendScript appends the steps of script, separated by ';', to partition
// 0 of name: "p k=v ..." a plain batch, "tPID k=v ..." a transactional
// batch of producer PID, "cPID" and "aPID" its commit and abort markers. A
// value "-" is a tombstone.
func appendScript(t *testing.T, s *Store, name string, now time.Time, script string) {
	t.Helper()
	for step := range strings.SplitSeq(script, ";") {
		f := strings.Fields(step)
		if len(f) == 0 {
			continue
		}
		var (
			raw []byte
			err error
		)
		switch kind, pid := f[0][0], f[0][1:]; kind {
		case 'c', 'a':
			id, _ := strconv.ParseInt(pid, 10, 64)
			typ := recordbatch.ControlCommit
			if kind == 'a' {
				typ = recordbatch.ControlAbort
			}
			raw, err = recordbatch.EncodeControl(id, 1, recordbatch.Control{Type: typ}, now)
		default:
			recs := make([]recordbatch.Record, 0, len(f)-1)
			for _, kv := range f[1:] {
				k, v, _ := strings.Cut(kv, "=")
				r := recordbatch.Record{Key: []byte(k), Timestamp: now}
				if v != "-" {
					r.Value = []byte(v)
				}
				recs = append(recs, r)
			}
			opts := recordbatch.EncodeOptions{}
			if kind == 't' {
				id, _ := strconv.ParseInt(pid, 10, 64)
				opts = recordbatch.EncodeOptions{Idempotent: true, Transactional: true, ProducerID: id, ProducerEpoch: 1}
			}
			raw, err = recordbatch.Encode(nil, recs, opts)
		}
		if err != nil {
			t.Fatal(err)
		}
		appendRaw(t, s, name, raw)
	}
}

// describeLog lists what a read_uncommitted reader gets from partition 0:
// "offset:key=value" per record ("-" a tombstone), "offset:COMMIT(pid)" or
// "offset:ABORT(pid)" per marker.
func describeLog(t *testing.T, s *Store, name string) string {
	t.Helper()
	var out []string
	for from := int64(0); ; {
		res, err := s.Read(ctx, name, 0, from, store.ReadLimits{})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Batches) == 0 {
			return strings.Join(out, " ")
		}
		for _, b := range res.Batches {
			if err := recordbatch.VerifyCRC(b.Raw); err != nil {
				t.Fatalf("batch at %d: %v", b.BaseOffset, err)
			}
			info, err := recordbatch.Parse(b.Raw)
			if err != nil {
				t.Fatal(err)
			}
			if info.Control() {
				m, err := recordbatch.ParseControl(b.Raw)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, fmt.Sprintf("%d:%s(%d)", b.BaseOffset, m.Type, info.ProducerID))
			} else {
				_, recs, err := recordbatch.Decode(b.Raw)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range recs {
					v := string(r.Value)
					if r.Value == nil {
						v = "-"
					}
					out = append(out, fmt.Sprintf("%d:%s=%s", r.Offset, r.Key, v))
				}
			}
			from = b.LastOffset + 1
		}
	}
}

// committedKeys replays partition 0 as a read_committed consumer does (the
// committed reads' aborted lists, markers skipped) and returns each key's
// latest value, "key=value" sorted by key, tombstoned keys left out.
func committedKeys(t *testing.T, s *Store, name string) string {
	t.Helper()
	latest := map[string]string{}
	for from := int64(0); ; {
		res, err := s.Read(ctx, name, 0, from, store.ReadLimits{Committed: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Batches) == 0 {
			break
		}
		f := store.NewTxnFilter(res.Aborted)
		for _, b := range res.Batches {
			from = b.LastOffset + 1
			info, err := recordbatch.Parse(b.Raw)
			if err != nil {
				t.Fatal(err)
			}
			if f.Skip(info) {
				continue
			}
			_, recs, err := recordbatch.Decode(b.Raw)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range recs {
				if r.Value == nil {
					delete(latest, string(r.Key))
				} else {
					latest[string(r.Key)] = string(r.Value)
				}
			}
		}
	}
	out := make([]string, 0, len(latest))
	for k, v := range latest {
		out = append(out, k+"="+v)
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}

// horizons counts the delete horizons the cleaner keeps ('c' id partition base).
func horizons(t *testing.T, s *Store) int {
	t.Helper()
	n := 0
	err := s.scan([]byte{tagCleaner}, []byte{tagCleaner + 1}, func(k, _ []byte) error {
		if len(k) == 21 {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// The cleaner and transactions, as Kafka's LogCleaner: aborted records go
// and never shadow nor are shadowed instead of committed ones; committed
// transactional records are compacted like any; markers stay until a pass
// finds their transaction empty, then delete.retention.ms more (two passes);
// nothing at or past the last stable offset is touched. Each phase appends,
// moves the clock, runs one pass and checks the log a read_uncommitted
// reader gets, the keys a read_committed one ends with, and the aborted
// index and horizons left.
func TestCompactionTransactions(t *testing.T) {
	type phase struct {
		add       string
		advance   time.Duration
		log       string // what read_uncommitted returns after the pass
		committed string // each key's latest value under read_committed
		aborted   int    // 'a' entries left
		horizons  int
	}
	cases := []struct {
		name   string
		phases []phase
	}{
		{"aborted-only keys", []phase{
			{add: "p a=1; t10 x=1 y=1; t10 x=2; a10; p z=end",
				log: "0:a=1 4:ABORT(10) 5:z=end", committed: "a=1 z=end", aborted: 1},
		}},
		{"committed over aborted", []phase{
			{add: "p k=1; t10 k=2; c10; t11 k=3; a11; p z=end",
				log: "1:k=2 2:COMMIT(10) 4:ABORT(11) 5:z=end", committed: "k=2 z=end", aborted: 1},
		}},
		{"aborted over committed", []phase{
			{add: "t10 k=1; c10; t11 k=2; a11; p z=end",
				log: "0:k=1 1:COMMIT(10) 3:ABORT(11) 4:z=end", committed: "k=1 z=end", aborted: 1},
		}},
		{"aborted between plain records", []phase{
			{add: "t11 k=a; p k=1; t11 k=b; a11; p j=1; p z=end",
				log: "1:k=1 3:ABORT(11) 4:j=1 5:z=end", committed: "j=1 k=1 z=end", aborted: 1},
		}},
		{"interleaved producers", []phase{
			{add: "t10 a=1; t11 a=2; t10 b=1; c10; t11 b=2 c=2; a11; t12 c=3; c12; p z=end",
				log: "0:a=1 2:b=1 3:COMMIT(10) 6:ABORT(11) 7:c=3 8:COMMIT(12) 9:z=end", committed: "a=1 b=1 c=3 z=end", aborted: 1},
		}},
		{"aborted tombstone", []phase{
			{add: "p k=1; t11 k=-; a11; p z=end",
				log: "0:k=1 2:ABORT(11) 3:z=end", committed: "k=1 z=end", aborted: 1},
		}},
		{"markers across horizon passes", []phase{
			// The pass that removes the records keeps the markers.
			{add: "t10 x=1; a10; t11 k=1; c11; p k=2; p z=1",
				log: "1:ABORT(10) 3:COMMIT(11) 4:k=2 5:z=1", committed: "k=2 z=1", aborted: 1},
			// The next finds them empty: kept, horizons written.
			{add: "p z=2",
				log: "1:ABORT(10) 3:COMMIT(11) 4:k=2 5:z=1 6:z=2", committed: "k=2 z=2", aborted: 1, horizons: 2},
			// Before the horizon: kept.
			{add: "p z=3", advance: 59 * time.Minute,
				log: "1:ABORT(10) 3:COMMIT(11) 4:k=2 6:z=2 7:z=3", committed: "k=2 z=3", aborted: 1, horizons: 2},
			// At it: gone, with the abort's index entry.
			{add: "p z=4", advance: time.Minute,
				log: "4:k=2 7:z=3 8:z=4", committed: "k=2 z=4", aborted: 0, horizons: 0},
		}},
		{"open transaction at the LSO", []phase{
			// The LSO is 2: nothing from the open transaction on is judged,
			// the aborted records after it included.
			{add: "p k=1; p j=1; t10 k=2; t11 k=3 j=3; a11; p k=4; p z=end",
				log: "0:k=1 1:j=1 2:k=2 3:k=3 4:j=3 5:ABORT(11) 6:k=4 7:z=end", committed: "j=1 k=1", aborted: 1},
			// Committed: the pass goes to the newest batch.
			{add: "c10; p z=end2",
				log: "1:j=1 5:ABORT(11) 6:k=4 7:z=end 8:COMMIT(10) 9:z=end2", committed: "j=1 k=4 z=end2", aborted: 1},
		}},
		{"committed transaction's marker after a tombstone", []phase{
			// The tombstone stays until its horizon; the marker with it.
			{add: "p k=1; t10 k=-; c10; p z=1",
				log: "1:k=- 2:COMMIT(10) 3:z=1", committed: "z=1", aborted: 0, horizons: 1},
			// The pass that removes the tombstone still found it: the
			// marker stays, without a horizon.
			{add: "p z=2", advance: time.Hour,
				log: "2:COMMIT(10) 3:z=1 4:z=2", committed: "z=2", aborted: 0, horizons: 0},
			{add: "p z=3",
				log: "2:COMMIT(10) 4:z=2 5:z=3", committed: "z=3", aborted: 0, horizons: 1},
			{add: "p z=4", advance: time.Hour,
				log: "5:z=3 6:z=4", committed: "z=4", aborted: 0, horizons: 0},
		}},
	}
	for _, encrypted := range []bool{false, true} {
		for _, tc := range cases {
			t.Run(fmt.Sprintf("%s/encrypted=%v", tc.name, encrypted), func(t *testing.T) {
				clock := newTestClock(time.Unix(1_700_000_000, 0))
				opts := Options{InMemory: true, Now: clock.now, CompactionInterval: time.Hour, CompactionBytesPerSecond: -1, Registerer: prometheus.NewRegistry()}
				cfg := store.StreamConfig{Name: "c", ShardCount: 1, Compaction: store.Compaction{Enabled: true, DeleteRetention: time.Hour}}
				if encrypted {
					opts.Keyring = newTestKeyring("a")
					cfg.Encryption = store.Encryption{KeyID: "a"}
				}
				s, err := Open(opts)
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				if _, err := s.CreateStream(ctx, cfg); err != nil {
					t.Fatal(err)
				}
				for i, ph := range tc.phases {
					clock.add(ph.advance)
					appendScript(t, s, "c", clock.now(), ph.add)
					before := committedKeys(t, s, "c")
					if err := s.Compact(ctx); err != nil {
						t.Fatal(err)
					}
					if got := describeLog(t, s, "c"); got != ph.log {
						t.Errorf("phase %d: log\n  %s\nwant\n  %s", i, got, ph.log)
					}
					got := committedKeys(t, s, "c")
					if got != ph.committed {
						t.Errorf("phase %d: read_committed keys %q, want %q", i, got, ph.committed)
					}
					if got != before {
						t.Errorf("phase %d: read_committed keys %q before the pass, %q after", i, before, got)
					}
					if n := countKeys(t, s, tagAborted); n != ph.aborted {
						t.Errorf("phase %d: %d aborted index entries, want %d", i, n, ph.aborted)
					}
					if n := horizons(t, s); n != ph.horizons {
						t.Errorf("phase %d: %d horizons, want %d", i, n, ph.horizons)
					}
					if size, _ := s.Size(ctx, "c", 0); size != storedBytes(t, s, "c") {
						t.Errorf("phase %d: size %d, stored %d", i, size, storedBytes(t, s, "c"))
					}
				}
			})
		}
	}
}

// FuzzCompactionTransactions: whatever the mix of plain records,
// tombstones, transactions committed, aborted and left open, a
// read_committed reader ends with the same keys from a compacted log as
// from the same log never compacted, and no aborted record is left below
// the cleanable end; every aborted index entry names an abort marker.
// Each input byte is a step: bits 5-7 pick plain record, tombstone,
// transactional record (of producer 10 + bit 3), commit or abort (of
// producer 10 + bit 0); bits 0-2 the key. Three rounds of passes to a fixed
// point run with the clock past delete.retention.ms and one plain record
// between them, so markers go too.
func FuzzCompactionTransactions(f *testing.F) {
	f.Add([]byte{0x00, 0x81, 0x82, 0xa0, 0x01, 0xc0})
	f.Add([]byte{0x81, 0x8a, 0x82, 0xa1, 0xa0, 0x83, 0x84, 0xc0, 0xc1})
	f.Add([]byte{0x80, 0x40, 0x80, 0xa0, 0x81, 0xc0, 0x82, 0x41, 0x89, 0xc1})
	f.Add([]byte{0x88, 0x80, 0x01, 0x89, 0xa0, 0x02, 0xc1, 0x8a})
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 || len(in) > 100 {
			return
		}
		var script []string
		for i, b := range in {
			key := fmt.Sprintf("k%d", b&7)
			switch b >> 5 {
			case 0, 1:
				script = append(script, fmt.Sprintf("p %s=v%d", key, i))
			case 2:
				script = append(script, "p "+key+"=-")
			case 4:
				script = append(script, fmt.Sprintf("t%d %s=v%d", 10+(b>>3&1), key, i))
			case 5:
				script = append(script, fmt.Sprintf("c%d", 10+(b&1)))
			case 6:
				script = append(script, fmt.Sprintf("a%d", 10+(b&1)))
			default:
				script = append(script, fmt.Sprintf("t%d %s=-", 10+(b>>3&1), key))
			}
		}
		clock := newTestClock(time.Unix(1_700_000_000, 0))
		s, ref := openCompacting(t, "", clock, 0), openCompacting(t, "", clock, 0)
		defer s.Close()
		defer ref.Close()
		for _, st := range []*Store{s, ref} {
			createCompacted(t, st, "c", store.Compaction{DeleteRetention: time.Hour})
			appendScript(t, st, "c", clock.now(), strings.Join(script, ";"))
		}
		p := (*s.streams["c"].parts.Load())[0]
		for round := range 3 {
			for _, st := range []*Store{s, ref} {
				appendScript(t, st, "c", clock.now(), fmt.Sprintf("p end=%d", round))
			}
			for range 100 {
				before, _, _ := s.loadCheckpoint(p)
				if err := s.Compact(ctx); err != nil {
					t.Fatal(err)
				}
				if after, _, _ := s.loadCheckpoint(p); after == before {
					break
				}
			}
			clock.add(2 * time.Hour)
		}
		if got, want := committedKeys(t, s, "c"), committedKeys(t, ref, "c"); got != want {
			t.Fatalf("read_committed keys %q, never compacted %q\nlog %s", got, want, describeLog(t, s, "c"))
		}
		// Aborted records (as the reference's committed reads say) are gone
		// below the cleanable end.
		cp, _, _ := s.loadCheckpoint(p)
		aborted := map[int64]bool{}
		for from := int64(0); ; {
			res, err := ref.Read(ctx, "c", 0, from, store.ReadLimits{Committed: true})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Batches) == 0 {
				break
			}
			f := store.NewTxnFilter(res.Aborted)
			for _, b := range res.Batches {
				from = b.LastOffset + 1
				info, _ := recordbatch.Parse(b.Raw)
				if f.Skip(info) && !info.Control() {
					aborted[b.BaseOffset] = true
				}
			}
		}
		res, err := s.Read(ctx, "c", 0, 0, store.ReadLimits{MaxBytes: 1 << 30})
		if err != nil {
			t.Fatal(err)
		}
		abortMarkers := map[int64]bool{}
		for _, b := range res.Batches {
			if aborted[b.BaseOffset] && b.BaseOffset < cp.firstDirty {
				t.Fatalf("aborted batch at %d left below the cleaned end %d\nlog %s", b.BaseOffset, cp.firstDirty, describeLog(t, s, "c"))
			}
			if c, err := recordbatch.ParseControl(b.Raw); err == nil && c.Type == recordbatch.ControlAbort {
				abortMarkers[b.BaseOffset] = true
			}
		}
		entries, err := s.abortedEntries(p, 1<<62)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if !abortMarkers[e.marker] {
				t.Fatalf("aborted index entry %+v without its marker\nlog %s", e, describeLog(t, s, "c"))
			}
		}
	})
}

// An aborted transaction's offloaded records go with their objects; a
// committed one's stay, though the aborted record of the key came later.
func TestCompactionReleasesAbortedObjects(t *testing.T) {
	clock := newTestClock(time.Unix(1_700_000_000, 0))
	s := openCompacting(t, "", clock, 0)
	defer s.Close()
	mustBucket(t, s, "payloads")
	createCompacted(t, s, "c", store.Compaction{})
	for _, tc := range []struct {
		pid  int64
		name string
		typ  recordbatch.ControlType
	}{{10, "a", recordbatch.ControlCommit}, {11, "b", recordbatch.ControlAbort}} {
		recs := []recordbatch.Record{{Key: []byte("k"), Value: []byte("ptr-" + tc.name), Timestamp: clock.now()}}
		raw, err := recordbatch.Encode(nil, recs, recordbatch.EncodeOptions{Offloaded: true, Idempotent: true, Transactional: true, ProducerID: tc.pid})
		if err != nil {
			t.Fatal(err)
		}
		opts := store.AppendOptions{Objects: []store.ObjectRef{offloadTo(t, s, "payloads", 0, tc.name)}}
		if _, err := s.AppendBatch(ctx, "c", 0, raw, opts); err != nil {
			t.Fatal(err)
		}
		appendRaw(t, s, "c", marker(t, tc.pid, tc.typ))
	}
	appendScript(t, s, "c", clock.now(), "p end=x")
	if err := s.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	if got := present(t, s, "payloads", "a", "b"); !got[0] || got[1] {
		t.Fatalf("objects present: %v, want only a's", got)
	}
	if got := describeLog(t, s, "c"); got != "0:k=ptr-a 1:COMMIT(10) 3:ABORT(11) 4:end=x" {
		t.Fatalf("log %s", got)
	}
}

// A committed transaction's batch that loses records to newer ones is
// rewritten as what it was: transactional, of its producer and epoch, so
// a later pass still counts it for its marker.
func TestCompactionRewritesTransactionalBatch(t *testing.T) {
	clock := newTestClock(time.Unix(1_700_000_000, 0))
	s := openCompacting(t, "", clock, 0)
	defer s.Close()
	createCompacted(t, s, "c", store.Compaction{DeleteRetention: time.Hour})
	appendScript(t, s, "c", clock.now(), "t10 a=1 b=1; c10; p a=2; p z=1")
	for round := range 3 {
		if err := s.Compact(ctx); err != nil {
			t.Fatal(err)
		}
		clock.add(2 * time.Hour)
		appendScript(t, s, "c", clock.now(), fmt.Sprintf("p z=%d", round+2))
	}
	res, err := s.Read(ctx, "c", 0, 0, store.ReadLimits{})
	if err != nil {
		t.Fatal(err)
	}
	info, err := recordbatch.Parse(res.Batches[0].Raw)
	if err != nil {
		t.Fatal(err)
	}
	if res.Batches[0].BaseOffset != 0 || !info.Transactional() || info.ProducerID != 10 || info.ProducerEpoch != 1 || info.LastOffsetDelta != 1 || info.NumRecords != 1 {
		t.Fatalf("rewritten batch: base %d %+v", res.Batches[0].BaseOffset, info)
	}
	if got := describeLog(t, s, "c"); !strings.HasPrefix(got, "1:b=1 2:COMMIT(10) 3:a=2 ") {
		t.Fatalf("log %s: the marker of a transaction with a record left must stay", got)
	}
}
