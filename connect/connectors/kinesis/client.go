package kinesis

import (
	"context"
	"errors"

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
func newClient(ctx context.Context, v connect.Values, opts ...func(*awskinesis.Options)) (*awskinesis.Client, error) {
	cfg, err := awsconf.Load(ctx, v)
	if err != nil {
		return nil, err
	}
	cfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 3
			o.RateLimiter = ratelimit.None
		})
	}
	return awskinesis.NewFromConfig(cfg, opts...), nil
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
	codeInUse           = "ResourceInUseException"
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
