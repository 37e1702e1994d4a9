package embedded

import (
	"log/slog"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/streambridge/bridge/store"
)

// Options configures Open. The zero value is usable apart from Dir: it opens
// a durable store that logs nowhere and exports no metrics.
type Options struct {
	// Dir is the directory holding the store. It is created if missing.
	// Ignored when InMemory is set.
	Dir string

	// ObjectsDir is the directory holding object bodies (store.Objects),
	// one file each; their metadata is in the database. Empty means Dir
	// with "-objects" appended: a sibling, so pebble has Dir to itself.
	// bridge serve sets <data-dir>/objects. Ignored when InMemory is set
	// (bodies are then kept in memory too, through the same code).
	ObjectsDir string

	// InMemory keeps everything in memory: nothing touches the disk and
	// everything is lost on Close. For tests and demos.
	InMemory bool

	// Logger receives the store's log lines. Nil discards them.
	Logger *slog.Logger

	// Registerer, if set, receives the store's Prometheus collectors.
	Registerer prometheus.Registerer

	// RetentionInterval is how often records past their stream's retention
	// are trimmed. Zero means one minute.
	RetentionInterval time.Duration

	// CompactionInterval is how often the cleaner looks for compacted
	// partitions that are due (compact.go). Zero means 15 seconds (Kafka's
	// log.cleaner.backoff.ms); tests make it short.
	CompactionInterval time.Duration

	// CompactionBufferBytes bounds the cleaner's key map (24 bytes a key,
	// Kafka's log.cleaner.dedupe.buffer.size); a pass that fills it cleans
	// up to where it got. Zero means 32 MiB (about 1.2 million keys).
	CompactionBufferBytes int64

	// CompactionBytesPerSecond paces the cleaner's reads and writes
	// (Kafka's log.cleaner.io.max.bytes.per.second). Zero means 64 MiB/s;
	// negative, unpaced.
	CompactionBytesPerSecond int64

	// Now returns the current time; nil means time.Now. Tests use it to move
	// the clock for retention.
	Now func() time.Time

	// MemoryLimit, when positive, is the memory the process may use; the
	// block cache, the tail cache and the memtables left zero below are
	// sized to fit it (PlanMemory).
	MemoryLimit int64

	// CacheSize is the block cache in bytes; zero means the MemoryLimit's
	// share, or 256 MiB.
	CacheSize int64

	// TailCacheBytes bounds the memory holding each partition's latest
	// batches, shared evenly by the partitions; zero means the
	// MemoryLimit's share, or 256 MiB, and a negative value turns the tail
	// cache off.
	TailCacheBytes int64

	// MemTableSize is the size of each of pebble's memtables (up to five
	// exist at once); zero means the MemoryLimit's share, or 64 MiB.
	MemTableSize int64

	// Keyring wraps the data keys of encrypted streams (encrypt.go). Nil:
	// a stream cannot be encrypted, and sealed batches cannot be read.
	Keyring store.Keyring

	// Fsync says when an acknowledged write reaches the disk: FsyncAlways
	// (the zero value) fsyncs before acknowledging, FsyncOS writes to the
	// kernel before acknowledging and fsyncs in the background (fsync.go).
	// Ignored when InMemory is set.
	Fsync Fsync

	// FsyncInterval is how often FsyncOS fsyncs; zero means
	// DefaultFsyncInterval.
	FsyncInterval time.Duration

	// FS is the file system of Dir (pebble's); nil means the operating
	// system's. Tests pass vfs.NewStrictMem to simulate a power cut: what
	// was not synced is lost (ResetToSyncedState) before the store is
	// opened again. Object bodies (ObjectsDir) stay on the OS's.
	FS vfs.FS

	// tune adjusts pebble's options; benchmarks use it to compare settings.
	tune func(*pebble.Options)
}
