package herdertest

import (
	"context"
	"io"
	"net/http"
	"strings"
)

// Send sends one request to a Connect REST API, with body as
// application/json when it is not empty, and returns the status and the
// answer's body.
func Send(ctx context.Context, method, url, body string) (int, string, error) {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		return 0, "", err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// Rebalancing says whether an answer is one of Kafka Connect's 409s for
// a rebalance under way, which clients retry; a conflict with what exists
// ("already exists") is not.
func Rebalancing(code int, answer string) bool {
	return code == http.StatusConflict && (strings.Contains(answer, "stale configuration") || strings.Contains(answer, "no known leader"))
}
