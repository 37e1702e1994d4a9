package s3

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/streambridge/bridge/connect"
)

// partitioner names the directory of a record's object.
type partitioner interface {
	// encode returns the path between the topic and the file name; at is
	// the record's time from the extractor.
	encode(rec *connect.Record, at time.Time) (string, error)
	// listPrefix is what every object of the Kafka partition starts with
	// after <dir>/<topic>/, for Open's listing.
	listPrefix(partition int32) string
}

// defaultPartitioner is partition=N.
type defaultPartitioner struct{}

func (defaultPartitioner) encode(rec *connect.Record, _ time.Time) (string, error) {
	return "partition=" + strconv.Itoa(int(rec.Partition)), nil
}

func (defaultPartitioner) listPrefix(p int32) string {
	return "partition=" + strconv.Itoa(int(p)) + "/"
}

// timePartitioner formats the record's time, rounded down to a multiple of
// duration, in loc.
type timePartitioner struct {
	format   pathFormat
	loc      *time.Location
	duration time.Duration
}

func (p timePartitioner) encode(_ *connect.Record, at time.Time) (string, error) {
	if p.duration > 0 {
		ms := at.UnixMilli()
		d := p.duration.Milliseconds()
		ms -= ((ms % d) + d) % d
		at = time.UnixMilli(ms)
	}
	return p.format.format(at.In(p.loc)), nil
}

func (timePartitioner) listPrefix(int32) string { return "" }

// fieldPartitioner is name=value/… of fields of the value (a struct or a
// map), as Confluent's FieldPartitioner.
type fieldPartitioner struct{ fields []string }

func (p fieldPartitioner) encode(rec *connect.Record, _ time.Time) (string, error) {
	segs := make([]string, 0, len(p.fields))
	for _, name := range p.fields {
		var v any
		var found bool
		switch x := rec.Value.(type) {
		case *connect.Struct:
			if x != nil && x.Schema.Field(name) != nil {
				v, found = x.Get(name), true
			}
		case map[string]any:
			v, found = x[name]
		default:
			return "", fmt.Errorf("the field partitioner needs a struct or map value, not %T", rec.Value)
		}
		if !found {
			return "", fmt.Errorf("the value has no field %q to partition by", name)
		}
		s, err := fieldText(v)
		if err != nil {
			return "", fmt.Errorf("field %q: %w", name, err)
		}
		segs = append(segs, name+"="+s)
	}
	return strings.Join(segs, "/"), nil
}

func (fieldPartitioner) listPrefix(int32) string { return "" }

// fieldText is a partition field's value in a path: strings (without
// slashes), whole numbers and booleans.
func fieldText(v any) (string, error) {
	switch x := v.(type) {
	case string:
		if x == "" || strings.Contains(x, "/") {
			return "", fmt.Errorf("value %q cannot be a path segment", x)
		}
		return x, nil
	case bool, int8, int16, int32, int64, int:
		return fmt.Sprint(x), nil
	case float64:
		if x == float64(int64(x)) { // JSON numbers without schemas
			return strconv.FormatInt(int64(x), 10), nil
		}
	}
	return "", fmt.Errorf("type %T is not supported as a partition field", v)
}
