package kinesis

import (
	"encoding/json"
	"fmt"
	"math"
)

// A source record's position, stored by the runtime once Kafka acknowledged
// the record:
//
//	partition {"stream": S, "shard": ID}
//	offset    {"sequence": "N"}                      a plain record
//	          {"sequence": "N", "subsequence": K}    user record K of a KPL aggregate
//	          ... "closed": true                     the last record of a closed shard
//
// The sequence number is a string: Kinesis's are up to 128 decimal digits,
// far past what a JSON number read as float64 keeps.
type position struct {
	Sequence    string
	Subsequence int64 // -1: a whole record
	Closed      bool
}

func sourcePartition(stream, shard string) map[string]any {
	return map[string]any{"stream": stream, "shard": shard}
}

func (p position) offset() map[string]any {
	m := map[string]any{"sequence": p.Sequence}
	if p.Subsequence >= 0 {
		m["subsequence"] = p.Subsequence
	}
	if p.Closed {
		m["closed"] = true
	}
	return m
}

// parsePosition reads a stored offset; nil means none.
func parsePosition(m map[string]any) (*position, error) {
	if m == nil {
		return nil, nil
	}
	seq, ok := m["sequence"].(string)
	if !ok || seq == "" {
		return nil, fmt.Errorf("stored offset %v: sequence must be a non-empty string", m)
	}
	p := &position{Sequence: seq, Subsequence: -1}
	if v, ok := m["subsequence"]; ok && v != nil {
		n, ok := wholeNumber(v)
		if !ok || n < 0 {
			return nil, fmt.Errorf("stored offset %v: subsequence must be a whole number", m)
		}
		p.Subsequence = n
	}
	if v, ok := m["closed"]; ok && v != nil {
		b, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("stored offset %v: closed must be a boolean", m)
		}
		p.Closed = b
	}
	return p, nil
}

// wholeNumber reads a JSON number as the stores hand it back.
func wholeNumber(v any) (int64, bool) {
	switch x := v.(type) {
	case int:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
			return 0, false
		}
		return int64(x), true
	case json.Number:
		n, err := x.Int64()
		return n, err == nil
	}
	return 0, false
}
