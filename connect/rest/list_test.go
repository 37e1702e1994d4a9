package rest_test

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/streambridge/bridge/connect/rest"
)

// noConnectors is a herder that knows no connector and says so with a nil
// list, as the distributed herder does before the first one is created.
type noConnectors struct{ rest.Herder }

func (noConnectors) Connectors() []string { return nil }

// GET /connectors with no connector is [], never null, as Kafka answers.
func TestListNoConnectors(t *testing.T) {
	srv := httptest.NewServer(rest.New(rest.Config{Herder: noConnectors{}}))
	defer srv.Close()
	for _, path := range []string{"/connectors", "/connectors?expand=status"} {
		resp, err := srv.Client().Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		want := map[string]string{"/connectors": "[]", "/connectors?expand=status": "{}"}[path]
		if resp.StatusCode != 200 || strings.TrimSpace(string(b)) != want {
			t.Errorf("GET %s: %d %s; want %s", path, resp.StatusCode, b, want)
		}
	}
}
