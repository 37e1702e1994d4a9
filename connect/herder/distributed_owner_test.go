package herder

import (
	"testing"

	"github.com/streambridge/bridge/connect/distributed"
	"github.com/streambridge/bridge/connect/runtime"
)

// A task's owner is reached at its worker id with this worker's advertised
// scheme: an https group forwards task restarts over https.
func TestTaskOwnerURL(t *testing.T) {
	running := distributed.Status{State: runtime.Running, WorkerID: "10.0.0.2:8443"}
	for _, tc := range []struct {
		name, self, id string
		st             distributed.Status
		known          bool
		want           string
	}{
		{"https group", "https://10.0.0.1:8443/", "10.0.0.1:8443", running, true, "https://10.0.0.2:8443/"},
		{"http group", "http://10.0.0.1:8083/", "10.0.0.1:8083", running, true, "http://10.0.0.2:8443/"},
		{"no advertised URL", "", "10.0.0.1:8083", running, true, "http://10.0.0.2:8443/"},
		{"this worker", "https://10.0.0.2:8443/", "10.0.0.2:8443", running, true, ""},
		{"no status", "https://10.0.0.1:8443/", "10.0.0.1:8443", distributed.Status{}, false, ""},
		{"unassigned", "https://10.0.0.1:8443/", "10.0.0.1:8443", distributed.Status{State: runtime.Unassigned, WorkerID: "10.0.0.2:8443"}, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := &Distributed{cfg: DistributedConfig{URL: tc.self, WorkerID: tc.id}}
			if got := d.taskOwnerURL(tc.st, tc.known); got != tc.want {
				t.Fatalf("owner URL %q; want %q", got, tc.want)
			}
		})
	}
}
