// Package awsbody is the HTTP client wrapper every aws-sdk-go-v2 client of
// the bridge's own code uses (the load generators, the Connect connectors).
//
// smithy-go closes the request body it built as soon as the response is
// back, while net/http's write loop may still be finishing the request with
// it; the write loop then fails and closes the connection under the
// response being read ("deserialization failed ... use of closed network
// connection", aws/aws-sdk-go-v2#2737). The SDK's answer is to retry, which
// for PutRecords or SendMessageBatch writes records twice. OwnBody hands the
// transport a body of its own; reading the body first costs one copy.
package awsbody

import (
	"bytes"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// OwnBody wraps an SDK HTTP client so each request carries a body the
// transport owns.
type OwnBody struct{ Next aws.HTTPClient }

// Do implements aws.HTTPClient.
func (c OwnBody) Do(req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.Body != http.NoBody {
		body, err := io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		req.ContentLength = int64(len(body))
	}
	return c.Next.Do(req)
}
