package s3

import (
	"errors"
	"fmt"
	"math"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/convert"
)

// valueFormat writes one record's value to a file.
type valueFormat interface {
	// append adds the encoded value of rec to buf, or says why it cannot.
	append(buf []byte, rec *connect.Record) ([]byte, error)
}

// jsonFormat writes a value a line as Kafka's JsonConverter writes it
// without schemas (convert's, shared with the converters): structs as
// objects in field order, bytes and Decimals as base64, the other logical
// types as numbers, HTML characters unescaped (as Jackson). NaN and the
// infinities, which JSON lacks, are refused rather than written as the
// strings Jackson writes for them: a reader of the objects (Athena, Spark)
// would take them for text.
type jsonFormat struct{}

// schemalessJSON is the JsonConverter jsonFormat writes with; a configured
// converter is safe for concurrent use.
var schemalessJSON = func() *convert.JSONConverter {
	c := convert.NewJSONConverter()
	if err := c.Configure(connect.Config{convert.SchemasEnableConfig: "false"}, false); err != nil {
		panic(err) // a constant configuration
	}
	return c
}()

func (jsonFormat) append(buf []byte, rec *connect.Record) ([]byte, error) {
	if err := finite(rec.Value); err != nil {
		return buf, err
	}
	out, err := schemalessJSON.FromConnect("", rec.ValueSchema, rec.Value)
	if err != nil {
		return buf, err
	}
	return append(append(buf, out...), '\n'), nil
}

// finite refuses a value holding NaN or an infinity.
func finite(v any) error {
	switch x := v.(type) {
	case float32:
		return finite(float64(x))
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("cannot write %v as JSON", x)
		}
	case []any:
		for _, e := range x {
			if err := finite(e); err != nil {
				return err
			}
		}
	case map[string]any:
		for _, e := range x {
			if err := finite(e); err != nil {
				return err
			}
		}
	case *connect.Struct:
		if x != nil {
			for _, e := range x.Values {
				if err := finite(e); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// bytesFormat writes the raw value followed by a separator (Confluent's
// ByteArrayFormat).
type bytesFormat struct{ sep []byte }

func (f bytesFormat) append(buf []byte, rec *connect.Record) ([]byte, error) {
	switch x := rec.Value.(type) {
	case []byte:
		buf = append(buf, x...)
	case string:
		buf = append(buf, x...)
	default:
		return buf, errors.New("the bytes format writes bytes or string values only; use a ByteArrayConverter or StringConverter")
	}
	return append(buf, f.sep...), nil
}
