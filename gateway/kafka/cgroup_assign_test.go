package kafka

import (
	"regexp"
	"testing"
)

func TestCGAssignors(t *testing.T) {
	t1, t2 := [16]byte{1}, [16]byte{2}
	topics := map[string]cgTopic{"t1": {id: t1, partitions: 7}, "t2": {id: t2, partitions: 3}}
	mem := func(id string, names ...string) *cgMember { return &cgMember{id: id, names: names} }
	counts := func(a map[string]cgAssignment) map[string]int {
		out := map[string]int{}
		for id, as := range a {
			out[id] = as.count()
		}
		return out
	}
	// every partition of a subscribed topic exactly once, to a subscriber
	valid := func(t *testing.T, ms []*cgMember, a map[string]cgAssignment) {
		t.Helper()
		seen := map[[16]byte]map[int32]bool{}
		for _, m := range ms {
			for id, ps := range a[m.id] {
				name := map[[16]byte]string{t1: "t1", t2: "t2"}[id]
				if !m.subscribes(name) {
					t.Fatalf("%s got %s, not subscribed", m.id, name)
				}
				if seen[id] == nil {
					seen[id] = map[int32]bool{}
				}
				for _, p := range ps {
					if seen[id][p] {
						t.Fatalf("%s/%d assigned twice", name, p)
					}
					seen[id][p] = true
				}
			}
		}
		for name, tp := range topics {
			subscribed := false
			for _, m := range ms {
				subscribed = subscribed || m.subscribes(name)
			}
			if subscribed && len(seen[tp.id]) != int(tp.partitions) {
				t.Fatalf("%s: %d of %d partitions assigned", name, len(seen[tp.id]), tp.partitions)
			}
		}
	}

	t.Run("uniform balances identical subscriptions", func(t *testing.T) {
		ms := []*cgMember{mem("a", "t1"), mem("b", "t1"), mem("c", "t1")}
		a := assign("uniform", ms, topics, nil)
		valid(t, ms, a)
		c := counts(a)
		if c["a"]+c["b"]+c["c"] != 7 || c["a"] > 3 || c["b"] > 3 || c["c"] > 3 || c["a"] < 2 || c["b"] < 2 || c["c"] < 2 {
			t.Fatalf("counts %v", c)
		}
	})
	t.Run("uniform is sticky", func(t *testing.T) {
		ms := []*cgMember{mem("a", "t1", "t2"), mem("b", "t1", "t2")}
		before := assign("uniform", ms, topics, nil)
		ms = append(ms, mem("c", "t1", "t2"))
		after := assign("uniform", ms, topics, before)
		valid(t, ms, after)
		moved := 0
		for _, id := range []string{"a", "b"} {
			for tid, ps := range before[id] {
				for _, p := range ps {
					if !after[id].has(tid, p) {
						moved++
					}
				}
			}
		}
		// 10 partitions: a and b had 5 each and keep 3 or 4.
		if c := counts(after); moved != c["c"] || c["c"] != 3 {
			t.Fatalf("moved %d, counts %v", moved, c)
		}
	})
	t.Run("uniform with differing subscriptions", func(t *testing.T) {
		ms := []*cgMember{mem("a", "t1"), mem("b", "t1", "t2"), {id: "r", re: regexp.MustCompile("^t2$")}}
		a := assign("uniform", ms, topics, nil)
		valid(t, ms, a)
		if c := counts(a); c["a"] < 3 || c["b"] < 2 || c["r"] < 1 {
			t.Fatalf("counts %v", c)
		}
	})
	t.Run("range", func(t *testing.T) {
		ms := []*cgMember{mem("a", "t1", "t2"), mem("b", "t1", "t2")}
		a := assign("range", ms, topics, nil)
		valid(t, ms, a)
		if got := a["a"][t1]; len(got) != 4 || got[0] != 0 || got[3] != 3 {
			t.Fatalf("a's t1 %v, want 0-3", got)
		}
		if got := a["b"][t2]; len(got) != 1 || got[0] != 2 {
			t.Fatalf("b's t2 %v, want [2]", got)
		}
	})
	t.Run("no members", func(t *testing.T) {
		if a := assign("uniform", nil, topics, nil); len(a) != 0 {
			t.Fatal(a)
		}
	})
}
