package kinesis

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"time"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/convert"
	"github.com/streambridge/bridge/internal/uuid"
	"github.com/streambridge/bridge/mapping"
)

// encodeValue turns a record value into Kinesis data: bytes as they are,
// text as UTF-8, anything else (structs, maps, arrays, numbers, booleans)
// as JSON with struct fields in schema order; a null value is empty data.
func encodeValue(v any, schema *connect.Schema) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return []byte{}, nil
	case []byte:
		return x, nil
	case string:
		return []byte(x), nil
	}
	var buf bytes.Buffer
	if err := writeJSON(&buf, v, schema); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeJSON writes Connect data as JSON the way Kafka's JsonConverter writes
// it without schemas: struct fields in schema order, map keys sorted (so
// the output is stable), bytes in base64, and the logical types as numbers
// (Timestamp: epoch milliseconds, Date: epoch days, Time: milliseconds of
// the day, Decimal: the number itself). A time.Time without a schema is
// written in RFC 3339.
func writeJSON(buf *bytes.Buffer, v any, schema *connect.Schema) error {
	var elem *connect.Schema
	if schema != nil {
		elem = schema.Value
	}
	switch x := v.(type) {
	case *connect.Struct:
		if x == nil {
			buf.WriteString("null")
			return nil
		}
		buf.WriteByte('{')
		for i, f := range x.Schema.Fields {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeString(buf, f.Name)
			buf.WriteByte(':')
			if err := writeJSON(buf, x.Values[f.Index], f.Schema); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
		return nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		buf.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeString(buf, k)
			buf.WriteByte(':')
			if err := writeJSON(buf, x[k], elem); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
		return nil
	case []any:
		buf.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := writeJSON(buf, e, elem); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
		return nil
	case *big.Int:
		buf.Write(convert.AppendPlainDecimal(buf.AvailableBuffer(), x, convert.DecimalScale(schema)))
		return nil
	case time.Time:
		if schema != nil {
			switch schema.Name {
			case connect.LogicalTimestamp:
				buf.WriteString(strconv.FormatInt(x.UnixMilli(), 10))
				return nil
			case connect.LogicalDate:
				days := x.Unix() / 86400
				if x.Unix() < 0 && x.Unix()%86400 != 0 {
					days-- // floor: 1969-12-31T12:00 is day -1
				}
				buf.WriteString(strconv.FormatInt(days, 10))
				return nil
			case connect.LogicalTime:
				buf.WriteString(strconv.FormatInt(x.UnixMilli()%86400000, 10))
				return nil
			}
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("value of type %T: %w", v, err)
	}
	buf.Write(b)
	return nil
}

func writeString(buf *bytes.Buffer, s string) {
	b, _ := json.Marshal(s)
	buf.Write(b)
}

// keyText is a key or field value as the bytes its partition key is made
// from: bytes and text as they are, numbers and booleans as their text,
// anything else as JSON; nil stays nil (the null-key substitute).
func keyText(v any, schema *connect.Schema) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case []byte:
		return x, nil
	case string:
		return []byte(x), nil
	case bool:
		return []byte(strconv.FormatBool(x)), nil
	case int8, int16, int32, int64, int, float32, float64:
		return []byte(fmt.Sprint(x)), nil
	}
	return encodeValue(v, schema)
}

// partitionKeyOf returns a sink record's partition key by the
// kinesis.partition.key mode: "key", "random" or "field" (of the value).
func partitionKeyOf(mode, field string, rec *connect.Record) (string, error) {
	var v any
	var schema *connect.Schema
	switch mode {
	case "random":
		return uuid.NewString(), nil
	case "key":
		v, schema = rec.Key, rec.KeySchema
	default:
		switch x := rec.Value.(type) {
		case *connect.Struct:
			if x != nil {
				v = x.Get(field)
				if f := x.Schema.Field(field); f != nil {
					schema = f.Schema
				}
			}
		case map[string]any:
			v = x[field]
			if rec.ValueSchema != nil {
				schema = rec.ValueSchema.Value
			}
		default:
			return "", fmt.Errorf("kinesis.partition.key=field:%s needs a struct or map value, not %T", field, rec.Value)
		}
	}
	b, err := keyText(v, schema)
	if err != nil {
		return "", err
	}
	return mapping.PartitionKeyForKafkaKey(b), nil
}
