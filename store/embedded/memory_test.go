package embedded

import (
	"maps"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/prometheus/client_golang/prometheus"
)

func TestPlanMemory(t *testing.T) {
	const MiB = 1 << 20
	for _, tc := range []struct {
		limit int64
		want  MemoryPlan
	}{
		{0, MemoryPlan{BlockCache: 256 * MiB, TailCache: 256 * MiB, MemTable: 64 * MiB}},
		{-1, MemoryPlan{BlockCache: 256 * MiB, TailCache: 256 * MiB, MemTable: 64 * MiB}},
		{512 * MiB, MemoryPlan{BlockCache: 64 * MiB, TailCache: 64 * MiB, MemTable: 16 * MiB}},
		{1024 * MiB, MemoryPlan{BlockCache: 128 * MiB, TailCache: 128 * MiB, MemTable: 32 * MiB}},
		{64 << 30, MemoryPlan{BlockCache: 256 * MiB, TailCache: 256 * MiB, MemTable: 64 * MiB}}, // capped
		{32 * MiB, MemoryPlan{BlockCache: 8 * MiB, TailCache: 8 * MiB, MemTable: 4 * MiB}},      // floors
	} {
		got := PlanMemory(tc.limit)
		if got != tc.want {
			t.Errorf("PlanMemory(%d MiB) = %+v, want %+v", tc.limit/MiB, got, tc.want)
		}
		if tc.limit >= 256*MiB && got.Bytes() > tc.limit*13/32 {
			t.Errorf("PlanMemory(%d MiB) holds %d MiB, over 13/32 of the limit", tc.limit/MiB, got.Bytes()/MiB)
		}
		if o := got.OutsideGoHeap(); o != 0 && o != got.BlockCache+5*got.MemTable {
			t.Errorf("PlanMemory(%d MiB) outside the Go heap: %d", tc.limit/MiB, o)
		}
	}
}

// A memory limit sizes what Open builds: pebble's cache and memtables and
// the tail cache; explicit sizes win over the limit's shares.
func TestOpenSizesMemoryToTheLimit(t *testing.T) {
	const MiB = 1 << 20
	for _, tc := range []struct {
		name                  string
		opts                  Options
		cache, tail, memtable int64
	}{
		{"no limit", Options{}, 256 * MiB, 256 * MiB, 64 * MiB},
		{"512 MiB", Options{MemoryLimit: 512 * MiB}, 64 * MiB, 64 * MiB, 16 * MiB},
		{"explicit sizes win", Options{MemoryLimit: 512 * MiB, CacheSize: 32 * MiB, TailCacheBytes: -1, MemTableSize: 8 * MiB}, 32 * MiB, -1, 8 * MiB},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := tc.opts
			opts.InMemory = true
			var popts *pebble.Options
			opts.tune = func(o *pebble.Options) { popts = o }
			reg := prometheus.NewRegistry()
			opts.Registerer = reg
			s, err := Open(opts)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if got := s.tail.bytes; got != tc.tail {
				t.Errorf("tail cache %d, want %d", got, tc.tail)
			}
			if got := popts.CacheSize; got != tc.cache {
				t.Errorf("block cache %d, want %d", got, tc.cache)
			}
			if got := popts.MemTableSize; int64(got) != tc.memtable {
				t.Errorf("memtable size %d, want %d", got, tc.memtable)
			}
			// /metrics reports the plan beside what is held.
			planned := map[string]float64{}
			families, err := reg.Gather()
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range families {
				if f.GetName() == "bridge_store_memory_planned_bytes" {
					for _, m := range f.GetMetric() {
						planned[m.GetLabel()[0].GetValue()] = m.GetGauge().GetValue()
					}
				}
			}
			want := map[string]float64{"block_cache": float64(tc.cache), "tail_cache": float64(tc.tail), "memtables": float64(tc.memtable)}
			if !maps.Equal(planned, want) {
				t.Errorf("bridge_store_memory_planned_bytes %v, want %v", planned, want)
			}
		})
	}
}
