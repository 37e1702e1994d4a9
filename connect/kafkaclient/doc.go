// Package kafkaclient reads the security settings of a Kafka client as
// Kafka's own clients take them (security.protocol, ssl.*, sasl.mechanism,
// sasl.jaas.config) from a Connect worker's or connector's properties and
// turns them into franz-go options: a TLS dialer and a SASL mechanism.
//
// Every Kafka client of a worker goes through here: the runtime's producers
// and consumers, the admin client, the distributed herder's stores and
// group member, and the Kafka connectors' clients of the other cluster
// (their settings carry a source. or target. prefix).
//
// Invariants:
//   - Nothing here dials or reads the network: Options only reads files
//     (PEM stores) and the AWS shared configuration.
//   - A setting this package cannot honour (a JKS store, GSSAPI, an
//     encrypted key) is an error naming the setting, never silently
//     weaker security: a worker told to use SSL never falls back to
//     PLAINTEXT.
//   - Role overrides follow Kafka Connect: producer.X, consumer.X and
//     admin.X replace the worker's X for that client, key by key (see
//     ForRole).
package kafkaclient
