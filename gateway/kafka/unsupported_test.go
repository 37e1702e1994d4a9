package kafka

import (
	"context"
	"errors"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/streambridge/bridge/store"
)

// noTrimStore is a backend that cannot delete records, as one over Amazon
// Kinesis cannot: its TrimBefore says so with store.ErrUnsupported.
type noTrimStore struct{ store.Store }

func (noTrimStore) TrimBefore(context.Context, string, int32, int64) (int64, error) {
	return 0, &store.UnsupportedError{Backend: "test", Op: "TrimBefore"}
}

// A backend's unsupported operation reaches a Kafka client as Kafka's own
// refusal (POLICY_VIOLATION, as DeleteRecords on a compacted topic gets),
// through the front end over the store interface, with nothing else broken.
func TestUnsupportedBackendOperation(t *testing.T) {
	e := startAdminEnv(t, "", func(c *Config) { c.Store = noTrimStore{c.Store} })
	ctx := adminCtx(t)
	if _, err := e.adm.CreateTopic(ctx, 1, 1, nil, "t"); err != nil {
		t.Fatal(err)
	}
	var to kadm.Offsets
	to.AddOffset("t", 0, -1, -1)
	res, err := e.adm.DeleteRecords(ctx, to)
	if err != nil {
		t.Fatal(err)
	}
	r, ok := res.Lookup("t", 0)
	if !ok || !errors.Is(r.Err, kerr.PolicyViolation) {
		t.Fatalf("DeleteRecords on a backend without trims: %+v, want POLICY_VIOLATION", r)
	}
}
