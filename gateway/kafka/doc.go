// Package kafka is the Kafka wire protocol front end: a single-node "cluster"
// (node 0) whose topics are streams of the embedded store. Unmodified Kafka
// clients produce, fetch and administer topics through it.
//
// # Layout
//
//   - server.go: Config, New, Serve, Shutdown; the listener and its limits.
//   - conn.go: one connection: a reader goroutine that reads frames, decodes
//     them and runs handlers in request order, and a writer goroutine that
//     completes deferred replies and writes responses in that same order.
//   - registry.go: the table of APIs (key, versions, handler). ApiVersions
//     answers from it, so advertised versions cannot drift from handlers.
//   - one file per API key (produce.go, fetch.go, metadata.go, ...), each
//     opening with a comment on what the API does here and its versions.
//   - errors.go: store errors to Kafka error codes.
//   - producers.go: idempotent producer state (dedup window, epochs),
//     persisted with the batches it describes.
//   - metrics.go: the bridge_kafka_* Prometheus collectors.
//   - fetchwire.go: Fetch responses encoded around the stored batches,
//     which the connection copies out through a buffer it reuses
//     (conn.writeFetch); frames.go: the pool of Produce request buffers.
//   - fetchsession.go: the fetch session cache (KIP-227); fetchids.go:
//     Fetch v13+ topic ids to names.
//
// # Adding an API
//
// Write one file, say createtopics.go, that registers the API in an init
// function and implements a Handler:
//
//	func init() {
//		register(API{Key: kmsg.CreateTopics, MinVersion: 0, MaxVersion: 7, Handle: handleCreateTopics})
//	}
//
//	func handleCreateTopics(ctx context.Context, r *Request) (Reply, error) {
//		req := r.Body.(*kmsg.CreateTopicsRequest) // always this type, Version set
//		resp := req.ResponseKind().(*kmsg.CreateTopicsResponse)
//		for _, t := range req.Topics {
//			// ... use r.Server.store, r.Server.cfg, r.Server.log ...
//		}
//		return Respond(resp), nil
//	}
//
// The contract, in full:
//
//   - The handler runs on the connection's reader goroutine, one request at a
//     time, in the order the client sent them. Work that blocks for long
//     (durability waits, long polls) belongs in RespondLater, which the
//     writer goroutine runs in response order, so the reader can go on
//     decoding and starting the next requests meanwhile. Short store calls
//     (CreateStream, UpdateStream, ...) may simply run in the handler.
//   - r.Body is the request decoded by kmsg at r.Version, which the registry
//     guarantees lies in [MinVersion, MaxVersion]. Build the response with
//     r.Body.ResponseKind(): its version is already the request's, and the
//     connection forces it again before encoding, so a handler cannot answer
//     with another version.
//   - Protocol-level failures (unknown topic, bad config, ...) go into the
//     response's error codes, never into the returned error. A non-nil error
//     means the connection cannot continue: it is logged and the connection
//     is closed. A panic in a handler is recovered, logged and likewise
//     closes the connection; the server keeps running.
//   - r.Body's byte slices alias the request's frame, which stays valid as
//     long as anything refers to it; strings are copies. (Only Produce
//     frames are recycled, by produce.go's own rules: see frames.go.)
//   - ctx is the connection's context: it ends when the connection closes or
//     a Shutdown gives up waiting. Pass it to store calls. r.Server.draining
//     is closed as soon as Shutdown starts: deferred replies that wait for
//     something (long polls) should answer with what they have then.
//   - Only Produce with acks=0 answers nothing (Reply.none, produce.go).
//   - Useful shared helpers: errorCode and errorMessage (errors.go) map
//     store errors to Kafka codes and messages; topicID and newTopicConfig
//     (metadata.go) give every topic its stable id (pass a new topic's
//     Config through newTopicConfig); validTopicName (metadata.go) is
//     Kafka's naming rule; s.autoCreate / s.createTopic (metadata.go) create
//     topics the way auto-creation does; s.clusterID is the stable cluster
//     id Metadata reports; s.producers.forget(ctx, s.store, topicID(st)) drops the
//     idempotent-producer state of a deleted topic.
package kafka
