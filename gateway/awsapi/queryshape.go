package awsapi

// The Query protocol names members differently from JSON (SQS's JSON
// Attributes map is Attribute.N.Name/Value in a form and <Attribute>
// elements in XML), so the same input and output structs carry a second
// tag for it. Reading that tag and walking the type on every request would
// cost more than the decoding itself, so each type is read once into a
// queryShape and cached.

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"
)

// queryKind is what a Go type is in the Query protocol.
type queryKind uint8

const (
	qString queryKind = iota
	qBool
	qInt
	qUint
	qFloat
	qBlob      // []byte, base64 on the wire
	qTimestamp // Timestamp
	qTime      // time.Time
	qStruct
	qList
	qMap
)

// queryShape is the Query view of one Go type.
type queryShape struct {
	kind queryKind
	// ptr says the Go type is a pointer to the type described.
	ptr    bool
	typ    reflect.Type // the type described (the pointer's element)
	fields []queryField // qStruct
	elem   *queryShape  // qList: the element; qMap: the value
}

// queryField is a struct member and its Query names.
type queryField struct {
	index     []int
	name      string
	omitEmpty bool
	shape     *queryShape
	// Lists and maps: flat drops the level that holds the entries
	// (Name.member.N, Name.entry.N); member is that level's name for a
	// list, key and value the names in a map entry.
	flat              bool
	member, key, data string
}

var (
	timestampType = reflect.TypeFor[Timestamp]()
	timeType      = reflect.TypeFor[time.Time]()

	queryShapes   sync.Map // reflect.Type → *queryShape
	queryShapesMu sync.Mutex
)

// queryShapeOf returns the cached shape of t, reading it on first use.
func queryShapeOf(t reflect.Type) (*queryShape, error) {
	if s, ok := queryShapes.Load(t); ok {
		return s.(*queryShape), nil
	}
	queryShapesMu.Lock()
	defer queryShapesMu.Unlock()
	building := map[reflect.Type]*queryShape{}
	s, err := buildQueryShape(t, building)
	if err != nil {
		return nil, err
	}
	// Only a complete set is published: a recursive type's members point
	// at each other.
	for bt, bs := range building {
		queryShapes.LoadOrStore(bt, bs)
	}
	return s, nil
}

func buildQueryShape(t reflect.Type, building map[reflect.Type]*queryShape) (*queryShape, error) {
	if s, ok := queryShapes.Load(t); ok {
		return s.(*queryShape), nil
	}
	if s := building[t]; s != nil {
		return s, nil
	}
	s := &queryShape{typ: t}
	if t.Kind() == reflect.Pointer {
		s.ptr, s.typ = true, t.Elem()
	}
	building[t] = s
	et := s.typ
	switch {
	case et == timestampType:
		s.kind = qTimestamp
	case et == timeType:
		s.kind = qTime
	case et.Kind() == reflect.Slice && et.Elem().Kind() == reflect.Uint8:
		s.kind = qBlob
	case et.Kind() == reflect.String:
		s.kind = qString
	case et.Kind() == reflect.Bool:
		s.kind = qBool
	case et.Kind() >= reflect.Int && et.Kind() <= reflect.Int64:
		s.kind = qInt
	case et.Kind() >= reflect.Uint && et.Kind() <= reflect.Uint64:
		s.kind = qUint
	case et.Kind() == reflect.Float32 || et.Kind() == reflect.Float64:
		s.kind = qFloat
	case et.Kind() == reflect.Slice:
		s.kind = qList
	case et.Kind() == reflect.Map && et.Key().Kind() == reflect.String:
		s.kind = qMap
	case et.Kind() == reflect.Struct:
		s.kind = qStruct
	default:
		return nil, fmt.Errorf("awsapi: query: type %s has no Query form", t)
	}
	var err error
	switch s.kind {
	case qList, qMap:
		if et.Elem().Kind() == reflect.Pointer && et.Elem().Elem().Kind() == reflect.Pointer {
			return nil, fmt.Errorf("awsapi: query: type %s has no Query form", t)
		}
		s.elem, err = buildQueryShape(et.Elem(), building)
	case qStruct:
		s.fields, err = queryFields(et, building)
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

// queryFields reads the members of struct type t. Promoted fields of
// embedded structs count, as in encoding/json, except through embedded
// pointers, which decoding would have to allocate.
func queryFields(t reflect.Type, building map[reflect.Type]*queryShape) ([]queryField, error) {
	var fields []queryField
	for _, sf := range reflect.VisibleFields(t) {
		if sf.Anonymous || !sf.IsExported() || viaPointer(t, sf.Index) {
			continue
		}
		f, skip, err := parseQueryTag(sf)
		if err != nil {
			return nil, err
		}
		if skip {
			continue
		}
		if f.shape, err = buildQueryShape(sf.Type, building); err != nil {
			return nil, fmt.Errorf("%w (field %s.%s)", err, t, sf.Name)
		}
		fields = append(fields, f)
	}
	return fields, nil
}

func viaPointer(t reflect.Type, index []int) bool {
	for _, i := range index[:len(index)-1] {
		f := t.Field(i)
		if f.Type.Kind() == reflect.Pointer {
			return true
		}
		t = f.Type
	}
	return false
}

// parseQueryTag reads a field's names: `query:"Name,flat,member=M,entry=K/V"`.
// The name defaults to the json tag's, then the field's; "-" in either
// tag skips the field. Names are checked here, once, so that neither
// decoding nor encoding has to.
func parseQueryTag(sf reflect.StructField) (f queryField, skip bool, err error) {
	f = queryField{index: sf.Index, name: sf.Name, member: "member", key: "key", data: "value"}
	jname, jopts, _ := strings.Cut(sf.Tag.Get("json"), ",")
	if jname == "-" && jopts == "" {
		return f, true, nil
	}
	if jname != "" {
		f.name = jname
	}
	f.omitEmpty = strings.Contains(","+jopts+",", ",omitempty,")
	opts := strings.Split(sf.Tag.Get("query"), ",")
	switch opts[0] {
	case "-":
		return f, true, nil
	case "":
	default:
		f.name = opts[0]
	}
	for _, o := range opts[1:] {
		k, v, _ := strings.Cut(o, "=")
		switch k {
		case "flat":
			f.flat = true
		case "member":
			f.member = v
		case "entry":
			f.key, f.data, _ = strings.Cut(v, "/")
		default:
			return f, false, fmt.Errorf("awsapi: query tag of %s: unknown option %q", sf.Name, o)
		}
	}
	for _, n := range []string{f.name, f.member, f.key, f.data} {
		if !isQueryName(n) {
			return f, false, fmt.Errorf("awsapi: query tag of %s: %q is not a name (entry wants Key/Value)", sf.Name, n)
		}
	}
	return f, false, nil
}

// isQueryName says whether a name can be both a form key's part (no dot)
// and an XML element, which the encoder writes unescaped.
func isQueryName(s string) bool {
	for i, c := range s {
		if !(c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && (c == '-' || '0' <= c && c <= '9')) {
			return false
		}
	}
	return s != ""
}

// nestedNames are the entry names of a list or map that is not a struct
// member (a list of lists, a map of lists), which has no tag to name them.
var nestedNames = queryField{member: "member", key: "key", data: "value"}
