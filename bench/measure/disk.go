package measure

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/streambridge/bridge/internal/directio"
)

// diskBlock is the size of each write DiskWrite makes.
const diskBlock = 1 << 20

// DiskWrite measures the sequential write speed of dir's file system the way
// `dd bs=1M oflag=direct conv=fdatasync` does: totalBytes (rounded up to a
// whole MiB) written to a new file in 1 MiB writes past the page cache where
// the system has direct I/O (Linux: O_DIRECT; elsewhere through it), then one
// fdatasync, with the time of both. The file is removed. A durable server
// writing large records can approach this figure and not pass it, so it is
// the ceiling to compare produce rates with.
func DiskWrite(ctx context.Context, dir string, totalBytes int64) (mbPerSec float64, err error) {
	if totalBytes <= 0 {
		return 0, fmt.Errorf("disk write: %d bytes: want more than 0", totalBytes)
	}
	f, err := os.CreateTemp(dir, "bench-disk-*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	direct := directio.SetDirect(f.Fd(), true) == nil

	block := directio.AlignedBuffer(diskBlock)
	for i := range block {
		block[i] = byte(i*31 + i>>11) // not a zero page the device might elide
	}
	blocks := (totalBytes + diskBlock - 1) / diskBlock
	start := time.Now()
	for range blocks {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		if _, err := f.Write(block); err != nil {
			return 0, fmt.Errorf("disk write (direct %v): %w", direct, err)
		}
	}
	if err := f.Sync(); err != nil {
		return 0, err
	}
	return MBps(blocks*diskBlock, time.Since(start)), nil
}
