package kinesis

import (
	"context"
	"net/http"
	"sort"
)

// operation is one API operation, as X-Amz-Target names it after
// "Kinesis_20131202.".
type operation struct {
	name string
	// serve decodes body with c, runs the operation and writes the
	// response (or returns the error to write).
	serve func(ctx context.Context, h *Handler, x *exchange) error
}

// exchange is one request being answered.
type exchange struct {
	w     http.ResponseWriter
	r     *http.Request
	body  []byte
	codec codec
	op    string
	// scratch is a pooled buffer a fast decoder may decode into; like body,
	// it is reused once serve returns.
	scratch *[]byte
}

var operations = map[string]*operation{}

// register adds an operation whose handler takes a decoded *In and returns
// an *Out to encode. It runs from init functions.
func register[In, Out any](name string, fn func(ctx context.Context, h *Handler, in *In) (*Out, error)) {
	add(name, func(ctx context.Context, h *Handler, x *exchange) error {
		in := new(In)
		if err := decodeInput(x, in); err != nil {
			return err
		}
		out, err := fn(ctx, h, in)
		if err != nil {
			return err
		}
		return h.respond(x, out)
	})
}

// registerStreaming adds an operation that writes its own response (an
// event stream): fn gets the decoded *In and the exchange's writer.
func registerStreaming[In any](name string, fn func(ctx context.Context, h *Handler, in *In, w http.ResponseWriter, r *http.Request) error) {
	add(name, func(ctx context.Context, h *Handler, x *exchange) error {
		in := new(In)
		if err := x.codec.decode(x.body, in); err != nil {
			return err
		}
		return fn(ctx, h, in, x.w, x.r)
	})
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
		if _, isJSON := x.codec.(jsonCodec); isJSON && f.decodeFastJSON(x.body, x.scratch) {
			return nil
		}
	}
	return x.codec.decode(x.body, in)
}

func add(name string, serve func(ctx context.Context, h *Handler, x *exchange) error) {
	if _, dup := operations[name]; dup {
		panic("kinesis: operation " + name + " registered twice")
	}
	operations[name] = &operation{name: name, serve: serve}
}

// Operations returns the names of the served operations, sorted.
func Operations() []string {
	names := make([]string, 0, len(operations))
	for n := range operations {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
