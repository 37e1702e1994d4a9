// Package sdkclient is the HTTP client the aws-sdk-go-v2 load generators
// (kinesisbench, sqsbench) hand their SDK clients.
package sdkclient

import (
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"

	"github.com/streambridge/bridge/internal/awsbody"
)

// New returns an HTTP client whose connection pool keeps conns idle
// connections to one host, so that no concurrent caller of a bench waits
// for a connection or dials a new one per call, and which hands the
// transport request bodies of its own (internal/awsbody).
func New(conns int) aws.HTTPClient {
	httpClient := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.MaxIdleConns = max(tr.MaxIdleConns, conns)
		tr.MaxIdleConnsPerHost = max(tr.MaxIdleConnsPerHost, conns)
	})
	return awsbody.OwnBody{Next: httpClient}
}
