package kinesis

import (
	"context"
	"net/http"

	"github.com/streambridge/bridge/gateway/awsapi"
)

// operations are the Kinesis operations, as X-Amz-Target names them after
// "Kinesis_20131202.". Inputs with a decoder of their own take it.
var operations = awsapi.Registry[*Handler]{Decode: decodeInput}

// exchange is one request being answered.
type exchange = awsapi.Exchange

// register adds an operation whose handler takes a decoded *In and returns
// an *Out to encode. It runs from init functions.
func register[In, Out any](name string, fn func(ctx context.Context, h *Handler, in *In) (*Out, error)) {
	awsapi.Register(&operations, name, fn)
}

// registerStreaming adds an operation that writes its own response (an
// event stream): fn gets the decoded *In and the exchange's writer.
func registerStreaming[In any](name string, fn func(ctx context.Context, h *Handler, in *In, w http.ResponseWriter, r *http.Request) error) {
	awsapi.RegisterStreaming(&operations, name, fn)
}

// fastJSON is implemented by inputs that have a decoder of their own for
// the common shape of their JSON bodies (PutRecords). decodeFastJSON
// reports false, leaving the input untouched, for anything outside that
// shape; encoding/json then decodes the body as usual. The decoded input may
// hold slices of scratch (grown as needed), which outlives it only until
// the request ends; a nil scratch means a buffer of its own.
type fastJSON interface {
	decodeFastJSON(body []byte, scratch *[]byte) bool
}

func decodeInput(x *exchange, in any) error {
	if f, ok := in.(fastJSON); ok {
		if _, isJSON := x.Codec.(jsonCodec); isJSON && f.decodeFastJSON(x.Body, x.Scratch) {
			return nil
		}
	}
	return x.Codec.Decode(x.Body, in)
}

// Operations returns the names of the served operations, sorted.
func Operations() []string { return operations.Names() }
