package kinesisbench

import (
	"errors"
	"math/rand/v2"
	"time"

	"github.com/aws/smithy-go"
)

// errorCode is the AWS error type of err ("ProvisionedThroughputExceededException"),
// or "" when err is nil or not an answer from the service.
func errorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

// retryable says whether a call or record refused with this error type may
// succeed when sent again: throttling, and the service's own transient
// failures.
func retryable(code string) bool {
	switch code {
	case "ProvisionedThroughputExceededException", "LimitExceededException", "ThrottlingException",
		"KMSThrottlingException", "InternalFailure", "InternalServerError", "ServiceUnavailable":
		return true
	}
	return false
}

func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return rand.N(d)
}
