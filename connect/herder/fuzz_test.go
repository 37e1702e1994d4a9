package herder

import "testing"

// The connectors and offsets files are read back at every start: whatever
// they hold, reading them fails cleanly or yields a usable state.
func FuzzParseState(f *testing.F) {
	f.Add([]byte(`{"version":1,"connectors":{"a":{"config":{"name":"a"},"target_state":"PAUSED","tasks":[{"x":"1"}]}}}`))
	f.Add([]byte(`{"version":1}`))
	f.Add([]byte(`{"version":1,"connectors":{"a":{"target_state":"RUNNING"}}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseState(b)
		if err != nil {
			return
		}
		for _, s := range m {
			if s.Config == nil {
				t.Fatal("a connector without configuration was accepted")
			}
			_ = s.clone()
		}
	})
}

func FuzzParseOffsetsFile(f *testing.F) {
	f.Add([]byte(`{"version":1,"connectors":{"c":[{"partition":{"f":"a"},"offset":{"pos":1}}]}}`))
	f.Add([]byte(`{"version":1,"connectors":{"c":[{"partition":null,"offset":null}]}}`))
	f.Add([]byte(`{"version":3}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		data, err := parseOffsetsFile(b)
		if err != nil {
			return
		}
		for _, m := range data {
			for k, o := range m {
				if o.Partition == nil || o.Offset == nil || k == "" {
					t.Fatalf("bad entry %q %+v", k, o)
				}
			}
		}
	})
}
