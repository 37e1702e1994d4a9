package transform

import "github.com/streambridge/bridge/connect"

// Version is the version GET /connector-plugins reports for these plugins.
const Version = "1.0.0"

const pkg = "org.apache.kafka.connect.transforms."

// Plugins returns the transformations and predicates of this package, under
// Kafka's class names.
func Plugins() []connect.Plugin {
	var out []connect.Plugin
	smt := func(class, doc string, def connect.ConfigDef, f func() connect.Transform) {
		out = append(out, connect.Plugin{Class: pkg + class, Type: connect.PluginTransformation, Version: Version,
			Config: def, Doc: doc, NewTransform: f})
	}
	// keyValue registers X$Key and X$Value for a transform of either side.
	keyValue := func(class, doc string, def connect.ConfigDef, f func(side) connect.Transform) {
		smt(class+"$Key", doc+" (record key)", def, func() connect.Transform { return f(keySide) })
		smt(class+"$Value", doc+" (record value)", def, func() connect.Transform { return f(valueSide) })
	}
	pred := func(class, doc string, def connect.ConfigDef, f func() connect.Predicate) {
		out = append(out, connect.Plugin{Class: pkg + "predicates." + class, Type: connect.PluginPredicate, Version: Version,
			Config: def, Doc: doc, NewPredicate: f})
	}

	keyValue("InsertField", "Insert field(s) using attributes from the record metadata or a configured static value.", insertFieldDef,
		func(s side) connect.Transform { return &insertField{side: s} })
	keyValue("ReplaceField", "Filter or rename fields.", replaceFieldDef,
		func(s side) connect.Transform { return &replaceField{side: s} })
	keyValue("MaskField", "Mask specified fields with a valid null value for the field type (i.e. 0, false, empty string, and so on).", maskFieldDef,
		func(s side) connect.Transform { return &maskField{side: s} })
	keyValue("ExtractField", "Extract the specified field from a Struct when schema present, or a Map in the case of schemaless data.", extractFieldDef,
		func(s side) connect.Transform { return &extractField{side: s} })
	keyValue("HoistField", "Wrap data using the specified field name in a Struct when schema present, or a Map in the case of schemaless data.", hoistFieldDef,
		func(s side) connect.Transform { return &hoistField{side: s} })
	keyValue("SetSchemaMetadata", "Set the schema name, version or both on the record's key or value schema.", setSchemaMetadataDef,
		func(s side) connect.Transform { return &setSchemaMetadata{side: s} })
	keyValue("Cast", "Cast fields or the entire key or value to a specific type, e.g. to force an integer field to a smaller width.", castDef,
		func(s side) connect.Transform { return &cast{side: s} })
	keyValue("HeaderFrom", "Moves or copies fields in the key/value of a record into that record's headers.", headerFromDef,
		func(s side) connect.Transform { return &headerFrom{side: s} })
	smt("ValueToKey", "Replace the record key with a new key formed from a subset of fields in the record value.", valueToKeyDef,
		func() connect.Transform { return &valueToKey{} })
	smt("RegexRouter", "Update the record topic using the configured regular expression and replacement string.", regexRouterDef,
		func() connect.Transform { return &regexRouter{} })
	smt("TimestampRouter", "Update the record's topic field as a function of the original topic value and the record timestamp.", timestampRouterDef,
		func() connect.Transform { return &timestampRouter{} })
	smt("Filter", "Drops all records, filtering them from subsequent transformations in the chain. This is intended to be used conditionally to filter out records matching (or not matching) a particular Predicate.",
		connect.ConfigDef{}, func() connect.Transform { return filter{} })
	smt("InsertHeader", "Add a header to each record.", insertHeaderDef, func() connect.Transform { return &insertHeader{} })
	smt("DropHeaders", "Removes one or more headers from each record.", dropHeadersDef, func() connect.Transform { return &dropHeaders{} })

	pred("TopicNameMatches", "A predicate which is true for records with a topic name that matches the configured regular expression.",
		topicNameMatchesDef, func() connect.Predicate { return &topicNameMatches{} })
	pred("HasHeaderKey", "A predicate which is true for records with at least one header with the configured name.",
		hasHeaderKeyDef, func() connect.Predicate { return &hasHeaderKey{} })
	pred("RecordIsTombstone", "A predicate which is true for records which are tombstones (i.e. have null value).",
		connect.ConfigDef{}, func() connect.Predicate { return recordIsTombstone{} })
	return out
}
