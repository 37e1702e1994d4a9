package bufpool

import "testing"

func TestPool(t *testing.T) {
	p := Pool{MaxBytes: 1 << 20, MaxBuffer: 256 << 10, Round: 64 << 10}
	b := p.Get(1000)
	if len(b) != 0 || cap(b) != 64<<10 {
		t.Fatalf("Get(1000): len %d cap %d, want 0 and %d", len(b), cap(b), 64<<10)
	}
	p.Put(append(b, "data"...))
	if c := p.Get(64 << 10); len(c) != 0 || &c[:1][0] != &b[:1][0] {
		t.Errorf("a buffer that fits was not reused (len %d)", len(c))
	}
	if got := p.Get(300 << 10); cap(got) != 300<<10 {
		t.Errorf("Get over MaxBuffer: cap %d, want exactly %d", cap(got), 300<<10)
	}
	p.Put(make([]byte, 0, 300<<10))
	if p.Bytes() != 0 {
		t.Errorf("a buffer over MaxBuffer was kept")
	}
	for range 20 {
		p.Put(make([]byte, 0, 64<<10))
	}
	if p.Bytes() != 1<<20 {
		t.Errorf("pool keeps %d bytes, want its MaxBytes %d", p.Bytes(), 1<<20)
	}
	var zero Pool
	zero.Put(make([]byte, 10))
	if zero.Bytes() != 0 || len(zero.Get(10)) != 0 {
		t.Errorf("the zero Pool kept a buffer")
	}
}
