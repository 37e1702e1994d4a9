package kinesis

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"strconv"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/internal/uuid"
	"github.com/streambridge/bridge/mapping"
)

// encodeValue turns a record value into Kinesis data: bytes as they are,
// text as UTF-8, anything else (structs, maps, arrays, numbers, booleans)
// as JSON with struct fields in schema order; a null value is empty data.
func encodeValue(v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return []byte{}, nil
	case []byte:
		return x, nil
	case string:
		return []byte(x), nil
	}
	var buf bytes.Buffer
	if err := writeJSON(&buf, v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeJSON writes Connect data as JSON: encoding/json for everything but
// structs, whose fields keep their order, and containers holding them.
func writeJSON(buf *bytes.Buffer, v any) error {
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
			name, _ := json.Marshal(f.Name)
			buf.Write(name)
			buf.WriteByte(':')
			if err := writeJSON(buf, x.Values[f.Index]); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
		return nil
	case map[string]any:
		// Sorted keys, as encoding/json writes them, keep the output stable.
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
			name, _ := json.Marshal(k)
			buf.Write(name)
			buf.WriteByte(':')
			if err := writeJSON(buf, x[k]); err != nil {
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
			if err := writeJSON(buf, e); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
		return nil
	case *big.Int:
		buf.WriteString(x.String())
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("value of type %T: %w", v, err)
	}
	buf.Write(b)
	return nil
}

// keyText is a key or field value as the bytes its partition key is made
// from: bytes and text as they are, numbers and booleans as their text,
// anything else as JSON; nil stays nil (the null-key substitute).
func keyText(v any) ([]byte, error) {
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
	return encodeValue(v)
}

// partitionKeyOf returns a sink record's partition key by the
// kinesis.partition.key mode: "key", "random" or a field name.
func partitionKeyOf(mode, field string, rec *connect.Record) (string, error) {
	var v any
	switch mode {
	case "random":
		return uuid.NewString(), nil
	case "key":
		v = rec.Key
	default:
		switch x := rec.Value.(type) {
		case *connect.Struct:
			if x != nil {
				v = x.Get(field)
			}
		case map[string]any:
			v = x[field]
		default:
			return "", fmt.Errorf("kinesis.partition.key=field:%s needs a struct or map value, not %T", field, rec.Value)
		}
	}
	b, err := keyText(v)
	if err != nil {
		return "", err
	}
	return mapping.PartitionKeyForKafkaKey(b), nil
}
