package payloads

import (
	"testing"

	"github.com/streambridge/bridge/store"
)

// A stream encrypted at rest offloads nothing (objects are not encrypted);
// the same stream unencrypted gets the defaults and its own configs.
func TestPolicyOfEncryptedStream(t *testing.T) {
	o := New(struct{ store.Objects }{}, Policy{Threshold: DefaultThreshold}, nil)
	st := &store.Stream{Name: "s", Config: map[string]string{ConfigThreshold: "10", ConfigBucket: "b-1"}}
	if got, want := o.PolicyOf(st), (Policy{Bucket: "b-1", Threshold: 10}); got != want {
		t.Fatalf("unencrypted: %+v, want %+v", got, want)
	}
	st.Encryption = store.Encryption{KeyID: "alias/aws/kafka"}
	if got := o.PolicyOf(st); got.Threshold != 0 {
		t.Fatalf("encrypted: %+v, want threshold 0 (nothing offloaded)", got)
	}
}
