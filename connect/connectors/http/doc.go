// Package http holds HttpSinkConnector: a sink that POSTs batches of record
// values to an HTTP endpoint, typically a Lambda-style function URL or API
// Gateway route, with retries, backoff and per-record error reporting.
//
// Invariants the task keeps:
//
//   - Records are sent in the order Put handed them, one request at a time, so
//     a partition's records reach the endpoint in offset order.
//   - A request is retried whole (5xx, 429, connection errors, timeouts) until
//     it succeeds or max.retries is spent; a record is counted delivered only
//     after a 2xx answer, and PreCommit never returns an offset past a record
//     still buffered.
//   - A batch refused with another 4xx is split in halves and each half sent
//     again, down to single records: every record the endpoint accepts is
//     delivered once by the request that succeeded, and only the records it
//     refuses on their own go to SinkTaskContext.Report (errors.tolerance, the
//     dead letter queue).
package http
