package convert

import "github.com/streambridge/bridge/connect"

// Version is the version GET /connector-plugins reports for these plugins.
const Version = "1.0.0"

// Plugins returns the converters of this package, under Kafka's class names.
func Plugins() []connect.Plugin {
	conv := func(class, doc string, def connect.ConfigDef, f func() connect.Converter) connect.Plugin {
		return connect.Plugin{Class: class, Type: connect.PluginConverter, Version: Version, Config: def, Doc: doc, NewConverter: f}
	}
	return []connect.Plugin{
		conv("org.apache.kafka.connect.storage.StringConverter", "Strings in a configurable character set (UTF-8 by default).",
			StringConfigDef, func() connect.Converter { return &StringConverter{} }),
		conv("org.apache.kafka.connect.converters.ByteArrayConverter", "Bytes passed through unchanged.",
			connect.ConfigDef{}, func() connect.Converter { return ByteArrayConverter{} }),
		conv("org.apache.kafka.connect.json.JsonConverter", "JSON, with or without the schema envelope.",
			JSONConfigDef, func() connect.Converter { return NewJSONConverter() }),
		conv("org.apache.kafka.connect.converters.IntegerConverter", "A 4-byte big-endian integer (Kafka's IntegerSerializer).",
			connect.ConfigDef{}, newIntegerConverter),
		conv("org.apache.kafka.connect.converters.LongConverter", "An 8-byte big-endian integer (Kafka's LongSerializer).",
			connect.ConfigDef{}, newLongConverter),
		conv("org.apache.kafka.connect.converters.ShortConverter", "A 2-byte big-endian integer (Kafka's ShortSerializer).",
			connect.ConfigDef{}, newShortConverter),
		conv("org.apache.kafka.connect.converters.FloatConverter", "A 4-byte IEEE 754 float (Kafka's FloatSerializer).",
			connect.ConfigDef{}, newFloatConverter),
		conv("org.apache.kafka.connect.converters.DoubleConverter", "An 8-byte IEEE 754 double (Kafka's DoubleSerializer).",
			connect.ConfigDef{}, newDoubleConverter),
	}
}
