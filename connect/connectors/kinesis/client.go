package kinesis

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/smithy-go"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/connectors/awsconf"
)

// newClient returns a Kinesis client for the parsed AWS settings.
//
// The SDK's retries are kept for transport failures but get no retry quota:
// a task that backs off on its own must not find the SDK refusing to retry
// because an earlier burst of throttling emptied a shared token bucket.
func newClient(ctx context.Context, v connect.Values) (*awskinesis.Client, error) {
	cfg, err := awsconf.Load(ctx, v)
	if err != nil {
		return nil, err
	}
	cfg.HTTPClient = ownBody{awshttp.NewBuildableClient()}
	cfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 3
			o.RateLimiter = ratelimit.None
		})
	}
	return awskinesis.NewFromConfig(cfg), nil
}

// ownBody hands the transport a request body of its own. smithy-go closes
// the body it built as soon as the response is back, while net/http's write
// loop may still be finishing the request with it; the write loop then fails
// and closes the connection under the response being read ("use of closed
// network connection", aws/aws-sdk-go-v2#2737), and the SDK's retry of that
// PutRecords would write its records twice. Reading the body first costs one
// copy. (bench/sdkclient does the same for the load generators.)
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

// errorCode returns the AWS error code of err ("" when it has none).
func errorCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

// Error codes the tasks act on.
const (
	codeThroughput      = "ProvisionedThroughputExceededException"
	codeExpiredIterator = "ExpiredIteratorException"
	codeLimitExceeded   = "LimitExceededException"
	codeInternalFailure = "InternalFailure"
	codeKMSThrottling   = "KMSThrottlingException"
	codeNotFound        = "ResourceNotFoundException"
)

// transient reports whether a failed call may succeed when made again:
// throttling, the service's own failures and transport errors. Refusals
// that name the request (access denied, no such stream, bad arguments) are
// not.
func transient(err error) bool {
	if errors.Is(err, context.Canceled) {
		return false
	}
	switch code := errorCode(err); code {
	case "":
		return true // a transport failure
	case codeThroughput, codeLimitExceeded, codeInternalFailure, codeKMSThrottling,
		"ServiceUnavailable", "ServiceUnavailableException", "InternalServerError", "ThrottlingException":
		return true
	}
	var resp *awshttp.ResponseError
	if errors.As(err, &resp) && resp.HTTPStatusCode() >= 500 {
		return true
	}
	return false
}
