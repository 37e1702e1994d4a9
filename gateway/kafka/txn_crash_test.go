package kafka

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streambridge/bridge/store/embedded"
)

// AddPartitionsToTxn's state is written without waiting for its sync,
// ordered before the transaction's batches (txnCoordinator.storeOrdered).
// Power cuts at random moments under transactional producers (a
// crashable in-memory file system cloned as a crash would leave it: every
// synced byte, a random part of the rest) must never leave a
// transactional batch in the log whose transaction the stored state does
// not name with that partition: such a transaction could never end, and
// would hold the partition's last stable offset for good. The state
// without the batch is allowed (the producer had not written there yet).
// Each crashed copy is then served again, and every open transaction it
// holds is ended (aborted at its timeout), so read_committed readers move
// on.
func TestTxnAddPartitionsOrderedAcrossCrash(t *testing.T) {
	const (
		topic      = "crash"
		partitions = 4
		producers  = 2
		clones     = 40
	)
	fs := vfs.NewCrashableMem()
	objects := t.TempDir()
	open := func(fs vfs.FS) *embedded.Store {
		st, err := embedded.Open(embedded.Options{Dir: "/data", FS: fs, ObjectsDir: objects})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	serve := func(st *embedded.Store) (*testServer, func()) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		s, err := New(Config{Store: st, Logger: testLogger(), AdvertisedAddr: ln.Addr().String()})
		if err != nil {
			t.Fatal(err)
		}
		served := make(chan error, 1)
		go func() { served <- s.Serve(ln) }()
		return &testServer{Server: s, addr: ln.Addr().String(), store: st}, func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := s.Shutdown(ctx); err != nil {
				t.Errorf("Shutdown: %v", err)
			}
			<-served
			st.Close()
		}
	}

	st := open(fs)
	ts, stop := serve(st)
	ts.createTopic(t, topic, partitions)

	// Producers run small transactions, one record per partition each,
	// so AddPartitionsToTxn and first batches follow each other closely.
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i := range producers {
		cl := ts.client(t, kgo.TransactionalID(fmt.Sprintf("crash-%d", i)), kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.TransactionTimeout(time.Second))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ctx.Err() == nil; n++ {
				if err := cl.BeginTransaction(); err != nil {
					return
				}
				for p := range int32(partitions) {
					if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Partition: p, Value: fmt.Appendf(nil, "%d", n)}).FirstErr(); err != nil {
						break
					}
				}
				end := kgo.TryCommit
				if ctx.Err() != nil {
					end = kgo.TryAbort
				}
				if err := cl.EndTransaction(context.Background(), end); err != nil {
					return
				}
			}
		}()
	}

	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	var crashed []*vfs.MemFS
	time.Sleep(20 * time.Millisecond) // let transactions start; not a threshold
	for range clones {
		time.Sleep(time.Duration(rng.IntN(3000)) * time.Microsecond)
		crashed = append(crashed, fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: rng.IntN(101), RNG: rng}))
	}
	cancel()
	wg.Wait()
	stop()

	withOpen := 0
	for i, cfs := range crashed {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			st := open(cfs)
			bg := context.Background()
			stored := map[int64]*txnMeta{}
			if err := st.Scan(bg, txnNamespace, "", func(_ string, v []byte) error {
				m, err := decodeTxnMeta(v)
				if err != nil {
					return err
				}
				stored[m.PID] = m
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			open := 0
			for p := range int32(partitions) {
				txns, err := st.OpenTransactions(bg, topic, p)
				if err != nil {
					t.Fatal(err)
				}
				for _, o := range txns {
					open++
					m := stored[o.ProducerID]
					if m == nil || m.State == txnEmpty || m.State == txnCompleteCommit || m.State == txnCompleteAbort || !m.hasPart(topic, p) {
						t.Errorf("partition %d: open transaction of producer %d at %d, stored state %+v does not name the partition", p, o.ProducerID, o.FirstOffset, m)
					}
				}
			}
			if open > 0 {
				withOpen++
			}
			if t.Failed() {
				st.Close()
				return // such a transaction would stay open: no point waiting
			}
			// Served again, the coordinator ends what is open.
			ts, stop := serve(st)
			defer stop()
			deadline := time.Now().Add(30 * time.Second) // bounds a hang, measures nothing
			for p := range int32(partitions) {
				for {
					txns, err := ts.store.OpenTransactions(bg, topic, p)
					if err != nil {
						t.Fatal(err)
					}
					if len(txns) == 0 {
						break
					}
					if time.Now().After(deadline) {
						t.Fatalf("partition %d: transactions %+v still open", p, txns)
					}
					time.Sleep(10 * time.Millisecond)
				}
			}
		})
	}
	t.Logf("%d of %d crashed copies held open transactions", withOpen, len(crashed))
}
