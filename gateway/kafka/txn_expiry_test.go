package kafka

import (
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streambridge/bridge/store"
)

// initPID sends InitProducerId for a transactional id and returns the
// producer id and epoch it answers.
func initPID(t testing.TB, cl *kgo.Client, id string) (int64, int16) {
	t.Helper()
	req := kmsg.NewPtrInitProducerIDRequest()
	req.TransactionalID, req.TransactionTimeoutMillis = &id, 60000
	req.ProducerID, req.ProducerEpoch = -1, -1
	resp, err := req.RequestWith(testContext(t), cl)
	if err != nil {
		t.Fatal(err)
	}
	if resp.ErrorCode != 0 {
		t.Fatalf("InitProducerId %s: %s", id, codeName(resp.ErrorCode))
	}
	return resp.ProducerID, resp.ProducerEpoch
}

// Transactional id expiry, applied directly at chosen times (no
// wall-clock thresholds), with Kafka's rule: idle ids (Empty,
// CompleteCommit, CompleteAbort) unchanged for the expiration go, from
// ListTransactions, DescribeTransactions and the store, and their next
// InitProducerId gets a new producer id; an ongoing transaction's id
// stays.
func TestTxnIDExpiry(t *testing.T) {
	ts := startServer(t)
	ts.createTopic(t, "x", 1)
	adm := ts.admin(t)
	ctx := testContext(t)
	raw := ts.client(t)

	cases := []struct {
		id      string
		state   string
		setup   func(t *testing.T, id string) int64 // returns the producer id
		expires bool
	}{
		{"x-empty", "Empty", func(t *testing.T, id string) int64 {
			pid, _ := initPID(t, raw, id)
			return pid
		}, true},
		{"x-commit", "CompleteCommit", func(t *testing.T, id string) int64 { return runTxn(t, ts, id, kgo.TryCommit) }, true},
		{"x-abort", "CompleteAbort", func(t *testing.T, id string) int64 { return runTxn(t, ts, id, kgo.TryAbort) }, true},
		{"x-ongoing", "Ongoing", func(t *testing.T, id string) int64 {
			cl := ts.client(t, kgo.TransactionalID(id), kgo.TransactionTimeout(time.Minute))
			if err := cl.BeginTransaction(); err != nil {
				t.Fatal(err)
			}
			produceTxn(t, cl, "x", 0, "open")
			return describeTxn(t, adm, id).ProducerID
		}, false},
	}
	pids := map[string]int64{}
	for _, c := range cases {
		t.Run("setup/"+c.id, func(t *testing.T) {
			pids[c.id] = c.setup(t, c.id)
			if dt := describeTxn(t, adm, c.id); dt.State != c.state {
				t.Fatalf("state %s, want %s", dt.State, c.state)
			}
		})
	}
	co, err := ts.txnCoord()
	if err != nil {
		t.Fatal(err)
	}
	// Nothing is an hour old yet.
	co.expireIDs(time.Now(), time.Hour)
	if lt, err := adm.ListTransactions(ctx, nil, nil); err != nil || len(lt) != len(cases) {
		t.Fatalf("before expiry: %v %v", lt, err)
	}
	co.expireIDs(time.Now().Add(2*time.Hour), time.Hour)

	lt, err := adm.ListTransactions(ctx, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.id, func(t *testing.T) {
			_, listed := lt[c.id]
			d, err := adm.DescribeTransactions(ctx, c.id)
			if err != nil {
				t.Fatal(err)
			}
			_, serr := ts.store.Get(ctx, txnNamespace, c.id)
			if !c.expires {
				if !listed || d[c.id].Err != nil || d[c.id].State != c.state || serr != nil {
					t.Fatalf("kept id: listed %v, described %+v, stored %v", listed, d[c.id], serr)
				}
				return
			}
			if listed {
				t.Errorf("ListTransactions still lists %s", c.id)
			}
			if !errors.Is(d[c.id].Err, kerr.TransactionalIDNotFound) {
				t.Errorf("DescribeTransactions: %v, want TRANSACTIONAL_ID_NOT_FOUND", d[c.id].Err)
			}
			if !errors.Is(serr, store.ErrNotFound) {
				t.Errorf("stored state: %v, want it deleted", serr)
			}
			pid, epoch := initPID(t, raw, c.id)
			if pid == pids[c.id] || epoch != 0 {
				t.Errorf("InitProducerId after expiry: %d/%d, want a new producer id at epoch 0 (was %d)", pid, epoch, pids[c.id])
			}
		})
	}
}

// runTxn runs one transaction of id to its end and returns its producer id.
func runTxn(t *testing.T, ts *testServer, id string, end kgo.TransactionEndTry) int64 {
	t.Helper()
	cl := ts.client(t, kgo.TransactionalID(id))
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	produceTxn(t, cl, "x", 0, id)
	if err := cl.EndTransaction(testContext(t), end); err != nil {
		t.Fatal(err)
	}
	return describeTxn(t, ts.admin(t), id).ProducerID
}

// The periodic check (Config.Transactions) removes an idle id by itself,
// and a producer of that id then starts over with a new producer id. (An
// expiration this short also removes an id between InitProducerId and
// its first transaction, as Kafka would: this test only initializes.)
func TestTxnIDExpiryPeriodic(t *testing.T) {
	ts := startServer(t, func(c *Config) {
		c.Transactions = TxnSettings{IDExpiration: time.Millisecond, IDExpirationCheck: 5 * time.Millisecond}
	})
	ts.createTopic(t, "x", 1)
	adm := ts.admin(t)
	raw := ts.client(t)
	pid, _ := initPID(t, raw, "gone")
	deadline := time.Now().Add(20 * time.Second) // bounds a hang, measures nothing
	for {
		d, err := adm.DescribeTransactions(testContext(t), "gone")
		if err != nil {
			t.Fatal(err)
		}
		if errors.Is(d["gone"].Err, kerr.TransactionalIDNotFound) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the idle id is still there: %+v", d["gone"])
		}
		time.Sleep(5 * time.Millisecond)
	}
	if next, _ := initPID(t, raw, "gone"); next == pid {
		t.Errorf("producer id %d reused after expiry", next)
	}
}

// Settings Kafka refuses are refused by New.
func TestTxnSettingsValidate(t *testing.T) {
	for _, c := range []struct {
		s  TxnSettings
		ok bool
	}{
		{TxnSettings{}, true},
		{TxnSettings{IDExpiration: -1}, true},
		{TxnSettings{IDExpirationCheck: -time.Second}, false},
	} {
		if err := c.s.Validate(); (err == nil) != c.ok {
			t.Errorf("%+v: %v", c.s, err)
		}
	}
}
