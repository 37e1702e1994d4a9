package awsapi

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/streambridge/bridge/internal/uuid"
)

// Exchange is one request being answered by an operation.
type Exchange struct {
	W http.ResponseWriter
	R *http.Request
	// Op is the operation's name (PutRecord, SendMessage).
	Op string
	// Body is the request body, already read; it is reused once the
	// operation returns, so decoding copies what it keeps.
	Body []byte
	// Codec is the body's encoding; answers use it too. Unused when Query
	// is set.
	Codec Codec
	// Query is set when the request is in the Query protocol (Action=X):
	// the API's rules for that protocol, which Decode, Respond and
	// WriteError then follow. Form holds the request's parameters
	// (QueryForm); Op is its Action. One API serves both protocols through
	// the same operations by setting these, or not, per request.
	Query *QueryProtocol
	Form  url.Values
	// Scratch is a pooled buffer a fast decoder may decode into; like Body,
	// it is reused once the operation returns. May be nil.
	Scratch *[]byte
	// Action and Resource are the request's IAM action and resource ARN,
	// set by the API's authorization step (Registry.Authorize) for the
	// audit log; Denied is set when that step refused the request, which
	// it has already recorded.
	Action, Resource string
	Denied           bool
}

// Decode fills in, a pointer to an operation's input, from the request:
// its Query parameters, or its body in the exchange's codec.
func (x *Exchange) Decode(in any) error {
	if x.Query != nil {
		return x.Query.Decode(x.Form, in)
	}
	return x.Codec.Decode(x.Body, in)
}

// Respond writes a 200 answer with v: in the exchange's codec, or as the
// Query protocol's XML answer to Op.
func (x *Exchange) Respond(v any) error {
	var body []byte
	var err error
	contentType := "text/xml"
	if x.Query != nil {
		body, err = x.Query.Encode(x.Op, x.requestID(), v)
	} else {
		body, err = x.Codec.Encode(v)
		contentType = x.Codec.ContentType()
	}
	if err != nil {
		return err
	}
	h := x.W.Header()
	h.Set("Content-Type", contentType)
	// A length lets net/http send the body as it is rather than in chunks
	// once it passes its 2 KiB buffer (a ReceiveMessage of ten messages),
	// which costs both ends.
	h.Set("Content-Length", strconv.Itoa(len(body)))
	x.W.WriteHeader(http.StatusOK)
	_, _ = x.W.Write(body)
	return nil
}

// WriteError writes e in the exchange's protocol: Query XML when Query is
// set, the JSON shape in the exchange's codec otherwise.
func (x *Exchange) WriteError(e *Error) {
	if x.Query != nil {
		e.writeQuery(x.W, x.requestID(), x.Query.Namespace)
		return
	}
	e.WriteJSON(x.W, x.Codec)
}

// requestID is the id the API put in the answer's x-amzn-RequestId, which
// a Query answer repeats in its body; a new one if the API set none.
func (x *Exchange) requestID() string {
	id := x.W.Header().Get(HeaderRequestID)
	if id == "" {
		id = uuid.NewString()
		x.W.Header().Set(HeaderRequestID, id)
	}
	return id
}

// Operation serves one exchange for an API whose handler is an H: it
// decodes the body, runs the operation and writes the answer, or returns
// the error to write.
type Operation[H any] func(ctx context.Context, h H, x *Exchange) error

// Registry holds the operations of one API by name. Each API has its own,
// filled by Register calls from its init functions, so APIs never see each
// other's operations. The zero value is ready to use.
type Registry[H any] struct {
	// Decode fills in, a pointer to an operation's input, from x; nil means
	// x.Decode(in), which reads JSON, CBOR and Query requests. An API sets
	// it to add a faster decoder for some inputs.
	Decode func(x *Exchange, in any) error
	// Respond writes an operation's output; nil means x.Respond(out).
	Respond func(h H, x *Exchange, out any) error
	// Authorize runs after decoding and before the operation, with the
	// decoded input: the API's authorization step (authz.go), which
	// returns the refusal to answer. nil lets every request through.
	Authorize func(ctx context.Context, h H, x *Exchange, in any) error

	ops map[string]Operation[H]
}

// Register adds an operation whose function takes a decoded *In and
// returns an *Out to answer with. It panics if name is taken: operations are
// registered by init functions, where that is a programming error.
func Register[H, In, Out any](reg *Registry[H], name string, fn func(ctx context.Context, h H, in *In) (*Out, error)) {
	reg.Add(name, func(ctx context.Context, h H, x *Exchange) error {
		in, err := decodeNew[In](reg, x)
		if err != nil {
			return err
		}
		if err := reg.authorize(ctx, h, x, in); err != nil {
			return err
		}
		out, err := fn(ctx, h, in)
		if err != nil {
			return err
		}
		if reg.Respond != nil {
			return reg.Respond(h, x, out)
		}
		return x.Respond(out)
	})
}

// RegisterStreaming adds an operation that writes its own answer (an event
// stream, or a body too large to encode in one piece): fn gets the decoded
// *In and the exchange's writer and request.
func RegisterStreaming[H, In any](reg *Registry[H], name string, fn func(ctx context.Context, h H, in *In, w http.ResponseWriter, r *http.Request) error) {
	reg.Add(name, func(ctx context.Context, h H, x *Exchange) error {
		in, err := decodeNew[In](reg, x)
		if err != nil {
			return err
		}
		if err := reg.authorize(ctx, h, x, in); err != nil {
			return err
		}
		return fn(ctx, h, in, x.W, x.R)
	})
}

func (reg *Registry[H]) authorize(ctx context.Context, h H, x *Exchange, in any) error {
	if reg.Authorize == nil {
		return nil
	}
	return reg.Authorize(ctx, h, x, in)
}

// decodeNew decodes x into a new *In with reg's decoder.
func decodeNew[In, H any](reg *Registry[H], x *Exchange) (*In, error) {
	in := new(In)
	if reg.Decode != nil {
		return in, reg.Decode(x, in)
	}
	return in, x.Decode(in)
}

// Add adds an operation that does its own decoding and answering.
func (reg *Registry[H]) Add(name string, op Operation[H]) {
	if _, dup := reg.ops[name]; dup {
		panic("awsapi: operation " + name + " registered twice")
	}
	if reg.ops == nil {
		reg.ops = make(map[string]Operation[H])
	}
	reg.ops[name] = op
}

// Lookup returns the operation called name, or nil.
func (reg *Registry[H]) Lookup(name string) Operation[H] { return reg.ops[name] }

// Names returns the names of the operations, sorted.
func (reg *Registry[H]) Names() []string {
	names := make([]string, 0, len(reg.ops))
	for n := range reg.ops {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
