package kafka

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/streambridge/bridge/store"
)

// errInvalidTopic marks a topic name Kafka would refuse (validTopicName).
var errInvalidTopic = errors.New("invalid topic name")

// kafkaError is a refusal: a Kafka error code and the message that the
// versions which carry one send back. Admin and produce paths alike return
// one; errorCode and errorMessage read it back.
type kafkaError struct {
	err *kerr.Error
	msg string
}

func (e *kafkaError) Error() string { return e.err.Message + ": " + e.msg }

// code returns the wire error code, 0 for nil.
func (e *kafkaError) code() int16 {
	if e == nil {
		return 0
	}
	return e.err.Code
}

// message returns the error message for the wire, nil for nil.
func (e *kafkaError) message() *string {
	if e == nil {
		return nil
	}
	return &e.msg
}

// refuse returns a refusal with code err and a message.
func refuse(err *kerr.Error, format string, args ...any) *kafkaError {
	return &kafkaError{err: err, msg: fmt.Sprintf(format, args...)}
}

// storeError turns a store error into the Kafka code errorCode picks,
// keeping the store's text as the message.
func storeError(err error) *kafkaError {
	if err == nil {
		return nil
	}
	var ke *kafkaError
	if errors.As(err, &ke) {
		return ke
	}
	return &kafkaError{err: kerr.TypedErrorForCode(errorCode(err)), msg: err.Error()}
}

// errorCode maps a store error to the Kafka error code a client acts on
// correctly. nil is 0 (NONE). Handlers use it for every store call whose
// error ends up in a response.
//
// A retired partition (its shard was merged away through the Kinesis API) is
// answered with POLICY_VIOLATION. No Kafka client moves a batch to another
// partition on retry: a retriable code (NOT_LEADER_OR_FOLLOWER,
// UNKNOWN_TOPIC_OR_PARTITION) would make it refresh metadata, find the same
// partition led by node 0, and retry until its delivery timeout, which in
// franz-go is unbounded by default. The partition refuses writes for good,
// so a non-retriable code that fails the batch at once, with the reason in
// the error message where the version carries one, is the honest answer.
func errorCode(err error) int16 {
	var ke *kafkaError
	if errors.As(err, &ke) {
		return ke.err.Code
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errInvalidTopic):
		return kerr.InvalidTopicException.Code
	case errors.Is(err, store.ErrStreamNotFound), errors.Is(err, store.ErrPartitionNotFound):
		return kerr.UnknownTopicOrPartition.Code
	case errors.Is(err, store.ErrOffsetOutOfRange):
		return kerr.OffsetOutOfRange.Code
	case errors.Is(err, store.ErrPartitionRetired):
		return kerr.PolicyViolation.Code
	case errors.Is(err, store.ErrStreamExists):
		return kerr.TopicAlreadyExists.Code
	case errors.Is(err, store.ErrInvalidArgument):
		return kerr.InvalidRequest.Code
	case errors.Is(err, store.ErrUnsupported):
		// Kafka's own answer for a request the broker cannot serve in its
		// configuration (DeleteRecords on a compacted topic, say).
		return kerr.PolicyViolation.Code
	case store.IsKeyError(err):
		// The topic's KMS key cannot be used (missing, disabled, another
		// keyring): the log cannot be written or read until it can, which
		// is what Kafka says of a failed log directory. Clients retry.
		return kerr.KafkaStorageError.Code
	case errors.Is(err, context.DeadlineExceeded):
		return kerr.RequestTimedOut.Code
	case errors.Is(err, store.ErrClosed), errors.Is(err, context.Canceled):
		// The store is going away with the process: clients retry
		// elsewhere (or here after a restart).
		return kerr.NotLeaderForPartition.Code
	default:
		return kerr.UnknownServerError.Code
	}
}

// keyConfigError refuses an encryption.kms.key.id the keyring cannot use.
func keyConfigError(keyID string, err error) *kafkaError {
	return refuse(kerr.InvalidConfig, "Invalid value %s for configuration %s: %v", keyID, cfgEncryptionKey, err)
}

// errorMessage is the message for a response's ErrorMessage field where the
// version has one: nil when there is no error, so clients print the code's
// own text.
func errorMessage(err error) *string { return storeError(err).message() }
