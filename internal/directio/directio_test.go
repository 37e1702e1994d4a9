package directio

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestAlignedBuffer(t *testing.T) {
	for _, size := range []int{1, Align - 1, Align, 3*Align + 5, 1 << 20} {
		b := AlignedBuffer(size)
		if len(b) != size || cap(b) != size || !IsAligned(b) {
			t.Errorf("AlignedBuffer(%d): len %d cap %d aligned %v", size, len(b), cap(b), IsAligned(b))
		}
		if size > 1 && IsAligned(b[1:]) {
			t.Errorf("AlignedBuffer(%d)[1:] is aligned", size)
		}
	}
	if IsAligned(nil) {
		t.Error("IsAligned(nil)")
	}
}

// TestSetDirect writes and reads a block with O_DIRECT on and off, where
// the file system takes it (tmpfs does not: then SetDirect must fail and
// the file work as before).
func TestSetDirect(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	block := AlignedBuffer(Align)
	for i := range block {
		block[i] = byte(i)
	}
	if err := SetDirect(f.Fd(), true); err != nil {
		if runtime.GOOS == "linux" {
			t.Logf("the file system refuses O_DIRECT (%v): page cache only", err)
		}
	} else if _, err := f.Write(block[1:]); err == nil {
		t.Error("an unaligned direct write succeeded: O_DIRECT is not on")
	}
	if _, err := f.WriteAt(block, 0); err != nil {
		t.Fatal(err)
	}
	if err := SetDirect(f.Fd(), false); err != nil && runtime.GOOS == "linux" {
		t.Log(err)
	}
	if _, err := f.WriteAt(block[1:2], Align); err != nil {
		t.Fatalf("an unaligned write with O_DIRECT off: %v", err)
	}
	got, err := os.ReadFile(f.Name())
	if err != nil || len(got) != Align+1 || got[5] != 5 || got[Align] != 1 {
		t.Errorf("file read back: %d bytes, %v", len(got), err)
	}
}
