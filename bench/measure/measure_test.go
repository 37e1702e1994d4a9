package measure

import (
	"context"
	"os"
	"runtime"
	"testing"
	"time"
)

func TestRates(t *testing.T) {
	for _, tc := range []struct {
		got, want float64
	}{
		{MBps(2<<20, time.Second), 2},
		{MBps(1, 0), 0},
		{PerSec(10, 2*time.Second), 5},
		{CPUPerMB(0.5, 1e6), 500},
		{CPUPerMB(-1, 1e6), -1},
		{CPUPerMB(1, 0), -1},
		{Median([]float64{3, 1, 2}), 2},
		{Median([]float64{4, 1, 3, 2}), 2.5},
		{Median(nil), 0},
	} {
		if tc.got != tc.want {
			t.Errorf("got %v, want %v", tc.got, tc.want)
		}
	}
}

func TestProcessCPU(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("CPU times come from /proc, Linux's") // the figures are then left out
	}
	cpu := ProcessCPU(os.Getpid())
	if _, err := cpu(); err != nil {
		t.Fatal(err)
	}
	since := CPUSince(cpu)
	for end := time.Now().Add(50 * time.Millisecond); time.Now().Before(end); {
	}
	if got := since(); got < 0 {
		t.Fatalf("CPU since = %v", got)
	}
	if got := CPUSince(nil)(); got != -1 {
		t.Fatalf("unknown CPU since = %v, want -1", got)
	}
	// This process is idle while it waits; a cancelled wait returns at once.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := WaitIdle(ctx, func() (float64, error) { return 0, nil }); err != nil && err != context.Canceled {
		t.Fatal(err)
	}
	if err := WaitIdle(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
}

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i))
	}
	if p50, p99, p100 := Percentile(d, .5), Percentile(d, .99), Percentile(d, 1); p50 != 50 || p99 != 99 || p100 != 100 {
		t.Errorf("p50 %v p99 %v p100 %v", p50, p99, p100)
	}
	if Percentile(nil, .5) != 0 || Percentile(d[:1], .99) != 1 {
		t.Error("edge cases")
	}
}

func TestDiskWrite(t *testing.T) {
	dir := t.TempDir()
	got, err := DiskWrite(t.Context(), dir, 3<<20+1)
	if err != nil || got <= 0 {
		t.Fatalf("DiskWrite = %v, %v; want a positive rate", got, err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Fatalf("left %d files behind", len(left))
	}
	if _, err := DiskWrite(t.Context(), dir, 0); err == nil {
		t.Fatal("DiskWrite accepted 0 bytes")
	}
}

func TestLoopback(t *testing.T) {
	for _, streams := range []int{1, 3} {
		mbps, cpu, err := Loopback(t.Context(), 64<<10, 4<<20, streams)
		if err != nil || mbps <= 0 || cpu <= 0 {
			t.Fatalf("Loopback(%d streams) = %v MB/s, %v ms CPU/MB, %v; want positive figures", streams, mbps, cpu, err)
		}
	}
	for _, bad := range []struct {
		frame  int
		total  int64
		stream int
	}{{0, 1, 1}, {64, 64, 0}, {64, 100, 2}} {
		if _, _, err := Loopback(t.Context(), bad.frame, bad.total, bad.stream); err == nil {
			t.Errorf("Loopback(%d, %d, %d) accepted", bad.frame, bad.total, bad.stream)
		}
	}
}
