// Package transform holds the built-in single message transforms and
// predicates of StreamBridge's Connect workers, under Kafka Connect's class
// names (org.apache.kafka.connect.transforms.InsertField$Value, …), with
// Kafka's settings, defaults and messages, and the Chain the runtime runs a
// connector's records through.
//
// Every transform works on schema'd data (a *connect.Struct with its schema)
// and on schemaless data (map[string]any). Invariants:
//
//   - Chain.Apply never modifies the record it is given: it copies the
//     record's fields once, and transforms build new maps, structs and header
//     slices rather than writing into the ones they were handed.
//   - An output schema is built once per input schema (cached by pointer, as
//     converters hand every record of a topic the same *Schema) and then
//     shared by every record; schemas are never modified after being built.
//   - Bad configurations are refused by Configure, and by ValidateChain with
//     per-key messages, before any record flows; bad records are errors,
//     never panics.
package transform
