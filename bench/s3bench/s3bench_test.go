package s3bench

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// TestRunAgainstGofakes3 runs a small load against gofakes3, the
// reference: both phases move every object, and the table prints them.
func TestRunAgainstGofakes3(t *testing.T) {
	srv := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	defer srv.Close()
	cfg := Config{Endpoint: srv.URL, Bucket: "t", ObjectSize: 100 << 10, Objects: 20, Concurrency: 3}
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Phases) != 2 {
		t.Fatalf("phases %+v", res.Phases)
	}
	for _, p := range res.Phases {
		if p.Objects != 20 || p.Bytes != 20*100<<10 || p.Time <= 0 {
			t.Errorf("phase %s: %d objects, %d bytes in %v", p.Name, p.Objects, p.Bytes, p.Time)
		}
	}
	res.Target = "gofakes3"
	var b bytes.Buffer
	if err := WriteTable(&b, cfg, Median([]Result{res, res}), res); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "put MB/s") || !strings.Contains(b.String(), "get p99 ms") {
		t.Errorf("table:\n%s", b.String())
	}
}
