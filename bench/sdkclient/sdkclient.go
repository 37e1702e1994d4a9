// Package sdkclient is the HTTP client the aws-sdk-go-v2 load generators
// (kinesisbench, sqsbench) hand their SDK clients.
package sdkclient

import (
	"bytes"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// New returns an HTTP client whose connection pool keeps conns idle
// connections to one host, so that no concurrent caller of a bench waits
// for a connection or dials a new one per call, and which hands the
// transport request bodies of its own (see ownBody).
func New(conns int) aws.HTTPClient {
	httpClient := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.MaxIdleConns = max(tr.MaxIdleConns, conns)
		tr.MaxIdleConnsPerHost = max(tr.MaxIdleConnsPerHost, conns)
	})
	return ownBody{httpClient}
}

// ownBody hands the transport a request body of its own. smithy-go closes
// the body it built as soon as the response is back, while net/http's
// write loop may still be finishing the request with it; the write loop
// then fails and closes the connection under the response being read
// ("deserialization failed ... use of closed network connection",
// aws/aws-sdk-go-v2#2737; the SDK's answer is to retry, which for
// PutRecords or SendMessageBatch would write records twice). Reading the
// body first costs one copy of it.
type ownBody struct{ next aws.HTTPClient }

func (c ownBody) Do(req *http.Request) (*http.Response, error) {
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
	return c.next.Do(req)
}
