package kafka

import (
	"context"
	"fmt"
	"net"
	"sort"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Handler answers one request. See the package documentation for the full
// contract; in short: it runs on the connection's reader goroutine in
// request order, puts protocol errors in the response, and returns an error
// only when the connection must be closed.
type Handler func(ctx context.Context, r *Request) (Reply, error)

// API is one Kafka API key as this server implements it.
type API struct {
	Key        kmsg.Key
	MinVersion int16 // lowest version answered
	MaxVersion int16 // highest version answered and advertised
	Handle     Handler
}

// Request is one decoded request as a Handler sees it.
type Request struct {
	Server *Server

	Key           int16
	Version       int16
	CorrelationID int32
	ClientID      string
	Remote        net.Addr
	// Listener is the listener the connection came in on.
	Listener *Listener
	// Principal is who the connection authenticated as, Kafka-style
	// ("User:alice"; "User:ANONYMOUS" when it did not).
	Principal string
	// Mechanism is the SASL mechanism the connection logged in with, ""
	// when it did not use SASL: MSK IAM principals are authorized by
	// their policies (Config.SASLAuthorizers).
	Mechanism string

	conn *conn

	// Body is what kmsg.RequestForKey(Key) decoded at Version; handlers
	// type-assert it to the key's request type, which always succeeds.
	Body kmsg.Request
}

// Reply is what a Handler hands back: a response now, a response later, or
// none at all. Build it with Respond or RespondLater; only Produce with
// acks=0 sets none, as it must still wait on its appends in later.
type Reply struct {
	resp  kmsg.Response
	later func(ctx context.Context) (kmsg.Response, error)
	none  bool
	// close ends the connection once the response is written: Kafka
	// answers a failed authentication, then hangs up.
	close bool
}

// Respond answers with resp as soon as the responses before it are written.
func Respond(resp kmsg.Response) Reply { return Reply{resp: resp} }

// closeAfter answers with resp, then closes the connection.
func closeAfter(resp kmsg.Response) Reply { return Reply{resp: resp, close: true} }

// RespondLater defers building the response to f, which the connection's
// writer goroutine calls once every earlier response is written, in request
// order. Meanwhile the reader goes on with later requests: Produce starts its
// appends in the handler (fixing their order) and waits for durability in f,
// so pipelined requests share fsyncs; Fetch long-polls in f. An error from f
// closes the connection, as a Handler's would.
func RespondLater(f func(ctx context.Context) (kmsg.Response, error)) Reply {
	return Reply{later: f}
}

// registry holds every API, indexed by key. It is filled by init functions
// and read-only afterwards, so lookups need no lock.
var registry []*API

// register adds an API; call it from an init function of the API's file.
// It panics on a programming error: a key registered twice, a version range
// that is empty or beyond what kmsg can encode, or a nil handler.
func register(api API) {
	key := int16(api.Key)
	req := kmsg.RequestForKey(key)
	switch {
	case req == nil:
		panic(fmt.Sprintf("kafka: register: kmsg knows no API key %d", key))
	case api.Handle == nil:
		panic(fmt.Sprintf("kafka: register %s: nil handler", api.Key.Name()))
	case api.MinVersion < 0 || api.MinVersion > api.MaxVersion:
		panic(fmt.Sprintf("kafka: register %s: bad version range %d-%d", api.Key.Name(), api.MinVersion, api.MaxVersion))
	case api.MaxVersion > req.MaxVersion():
		panic(fmt.Sprintf("kafka: register %s: v%d is past kmsg's v%d", api.Key.Name(), api.MaxVersion, req.MaxVersion()))
	}
	for int(key) >= len(registry) {
		registry = append(registry, nil)
	}
	if registry[key] != nil {
		panic(fmt.Sprintf("kafka: register %s: registered twice", api.Key.Name()))
	}
	registry[key] = &api
}

// lookup returns the API registered for key.
func lookup(key int16) (*API, bool) {
	if key < 0 || int(key) >= len(registry) || registry[key] == nil {
		return nil, false
	}
	return registry[key], true
}

// registeredAPIs returns every registered API ordered by key: what
// ApiVersions advertises.
func registeredAPIs() []API {
	var apis []API
	for _, api := range registry {
		if api != nil {
			apis = append(apis, *api)
		}
	}
	sort.Slice(apis, func(i, j int) bool { return apis[i].Key < apis[j].Key })
	return apis
}
