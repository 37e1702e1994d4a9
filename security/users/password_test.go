package users

import (
	"context"
	"testing"
)

func TestCheckPassword(t *testing.T) {
	u, err := Open(context.Background(), nil, []FileUser{
		{Name: "alice", Password: "alice-secret", Mechanisms: SCRAMMechanisms, Iterations: DefaultIterations},
		{Name: "bob", Password: "bob-secret", Mechanisms: []string{"SCRAM-SHA-256"}, Iterations: DefaultIterations},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		user, password string
		ok             bool
	}{
		{"alice", "alice-secret", true},
		{"bob", "bob-secret", true},
		{"alice", "bob-secret", false},
		{"alice", "", false},
		{"carol", "alice-secret", false},
		{"", "", false},
	} {
		if got := u.CheckPassword(tc.user, tc.password); got != tc.ok {
			t.Errorf("CheckPassword(%q, %q) = %v; want %v", tc.user, tc.password, got, tc.ok)
		}
	}
}
