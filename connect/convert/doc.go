// Package convert holds the built-in converters of StreamBridge's Connect
// workers, with Kafka Connect's class names and settings: StringConverter,
// ByteArrayConverter, JsonConverter and the number converters (Integer, Long,
// Short, Float, Double).
//
// A converter turns Connect data (connect.Schema and a Go value) into the
// bytes of a Kafka key or value and back. The invariants every converter
// here keeps:
//
//   - ToConnect never panics, whatever the bytes: bad input is an error
//     worded as Kafka words it (FuzzJSONToConnect holds JsonConverter to it).
//   - A nil input is a null value (a tombstone), and FromConnect of a null
//     value without schema is nil.
//   - What FromConnect writes, ToConnect reads back to equal data, and
//     writing that again gives the same bytes.
//   - Configured converters are safe for concurrent use.
//
// JsonConverter is hand-written rather than built on encoding/json: it runs
// once per record, it must tell integral numbers from others (Connect's
// int64/float64 split without a schema), keep documents' member order, and
// write bytes the way Kafka's Jackson does (Java's double formatting, no HTML
// escaping, the envelope's member order).
package convert
