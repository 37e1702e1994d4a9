package server

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/streambridge/bridge/store"
)

// TestInitRunsBeforeServing: Config.Init gets the open store while
// /readyz still says "starting" and before any front end is built; after
// Start returns the front ends see what it wrote. An Init error fails the
// start with that error and leaves nothing bound.
func TestInitRunsBeforeServing(t *testing.T) {
	cfg := testConfig(t)
	var built bool
	cfg.NewAWS = func(d Deps) (http.Handler, error) {
		built = true
		if _, err := d.Store.DescribeStream(context.Background(), "fixture"); err != nil {
			t.Errorf("front end built without Init's stream: %v", err)
		}
		return http.NotFoundHandler(), nil
	}
	cfg.Init = func(ctx context.Context, d Deps) error {
		if built {
			t.Error("Init ran after the AWS front end was built")
		}
		code, body := get(t, "http://"+d.Addrs.Admin+"/readyz")
		if code != http.StatusServiceUnavailable || !strings.Contains(body, "starting") {
			t.Errorf("/readyz during Init: %d %q, want 503 starting", code, body)
		}
		_, err := d.Store.CreateStream(ctx, store.StreamConfig{Name: "fixture", ShardCount: 1})
		return err
	}
	s := start(t, cfg)
	if code, _ := get(t, "http://"+s.Addrs().Admin+"/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz after Start: %d", code)
	}

	bad := testConfig(t)
	bad.Init = func(context.Context, Deps) error { return errors.New("fixture refused") }
	if _, err := Start(t.Context(), bad); err == nil || !strings.Contains(err.Error(), "fixture refused") {
		t.Fatalf("Start with a failing Init: %v", err)
	}
}
