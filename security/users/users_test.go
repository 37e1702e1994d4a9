package users

import (
	"context"
	"strings"
	"testing"

	"github.com/streambridge/bridge/security/sasl"
	"github.com/streambridge/bridge/store/embedded"
)

func TestParseFile(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, wantErr string
	}{
		{"ok", "users:\n  - name: alice\n    password: a\n  - name: bob\n    password: b\n    mechanisms: [SCRAM-SHA-512]\n    iterations: 8192\n", ""},
		{"no name", "users:\n  - password: a\n", "no name"},
		{"twice", "users:\n  - {name: a, password: x}\n  - {name: a, password: y}\n", "listed twice"},
		{"no password", "users:\n  - name: a\n", "no password"},
		{"bad mechanism", "users:\n  - {name: a, password: x, mechanisms: [PLAIN]}\n", "mechanism \"PLAIN\""},
		{"weak", "users:\n  - {name: a, password: x, iterations: 100}\n", "iterations 100"},
		{"unknown key", "users:\n  - {name: a, pasword: x}\n", "pasword"},
	} {
		_, err := ParseFile([]byte(tc.yaml))
		if (tc.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("%s: %v, want an error containing %q", tc.name, err, tc.wantErr)
		}
	}
}

// TestAPICredentialsSurviveReopen sets a credential through Apply, reopens
// the store and logs in with it; the file's user stays as it was and the
// API's credential wins over it.
func TestAPICredentialsSurviveReopen(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	file := []FileUser{{Name: "alice", Password: "file-pw", Mechanisms: SCRAMMechanisms, Iterations: DefaultIterations}}
	open := func() (*embedded.Store, *Store) {
		st, err := embedded.Open(embedded.Options{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		u, err := Open(ctx, st, file)
		if err != nil {
			t.Fatal(err)
		}
		return st, u
	}
	st, u := open()
	salt := []byte("some-salt")
	salted, _ := sasl.SaltPassword(sasl.ScramSHA256, "api-pw", salt, 4096)
	if err := u.Apply(ctx, []Change{{User: "alice", Mechanism: sasl.ScramSHA256, Iterations: 4096, Salt: salt, SaltedPassword: salted}}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	st, u = open()
	defer st.Close()
	login := func(pw string) bool {
		_, done, err := sasl.PlainMechanism(u).Start().Step([]byte("\x00alice\x00" + pw))
		return err == nil && done
	}
	if !login("api-pw") || login("file-pw") {
		t.Fatal("after reopening, the API's SCRAM-SHA-256 credential should win over the file's")
	}
	if err := u.Apply(ctx, []Change{{User: "alice", Mechanism: sasl.ScramSHA256}}); err != nil {
		t.Fatal(err)
	}
	if !login("file-pw") {
		t.Fatal("deleting the API's credential should bring the file's back")
	}
	if got := u.Names(); len(got) != 1 || got[0] != "alice" {
		t.Fatalf("Names() = %v", got)
	}
}
