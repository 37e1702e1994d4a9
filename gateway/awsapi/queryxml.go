package awsapi

// Query answers are XML that botocore's QueryParser reads by element name
// and ignores namespaces, so the encoder writes elements straight from the
// query shapes rather than through encoding/xml, whose tags could say
// neither "flattened" nor how a map's entries are named.

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// queryTimeFormat is how Query answers write times: ISO 8601 in UTC with
// milliseconds, as AWS does.
const queryTimeFormat = "2006-01-02T15:04:05.000Z"

// Encode returns the XML answer to action with out, the operation's output
// (a struct, a pointer to one, or nil):
//
//	<ActionResponse xmlns="..."><ActionResult>...</ActionResult>
//	<ResponseMetadata><RequestId>...</RequestId></ResponseMetadata></ActionResponse>
//
// Members are elements named as their query tags say; a flat list repeats
// its element, a flat map repeats an element holding its key and value
// elements; blobs are base64 and times ISO 8601. Nil members, and zero
// ones tagged omitempty in json, are left out. An output of a type with no
// members (struct{}) or nil has no Result element, as AWS answers
// operations without output.
func (p *QueryProtocol) Encode(action, requestID string, out any) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	b.WriteString("<" + action + "Response")
	if p.Namespace != "" {
		b.WriteString(` xmlns="`)
		_ = xml.EscapeText(&b, []byte(p.Namespace))
		b.WriteString(`"`)
	}
	b.WriteString(">")
	if v := reflect.ValueOf(out); v.IsValid() && !(v.Kind() == reflect.Pointer && v.IsNil()) {
		s, err := queryShapeOf(v.Type())
		if err != nil {
			return nil, err
		}
		if s.kind != qStruct {
			return nil, fmt.Errorf("awsapi: query: encode %T, not a struct", out)
		}
		if len(s.fields) > 0 {
			e := queryEncoder{b: &b}
			e.element(action+"Result", v, s, &nestedNames)
		}
	}
	b.WriteString("<ResponseMetadata><RequestId>")
	_ = xml.EscapeText(&b, []byte(requestID))
	b.WriteString("</RequestId></ResponseMetadata></" + action + "Response>")
	return b.Bytes(), nil
}

type queryEncoder struct{ b *bytes.Buffer }

// element writes v as <name>...</name>, or as repeated <name> elements
// for a flat list or map.
func (e *queryEncoder) element(name string, v reflect.Value, s *queryShape, names *queryField) {
	if s.ptr {
		if v.IsNil() {
			return // a nil entry of a list; nil members are omitted earlier
		}
		v = v.Elem()
	}
	switch {
	case s.kind == qList && names.flat:
		for i := range v.Len() {
			e.element(name, v.Index(i), s.elem, &nestedNames)
		}
		return
	case s.kind == qMap && names.flat:
		for _, k := range sortedKeys(v) {
			e.open(name)
			e.entry(k, v.MapIndex(k), s, names)
			e.close(name)
		}
		return
	}
	e.open(name)
	switch s.kind {
	case qStruct:
		for i := range s.fields {
			f := &s.fields[i]
			fv := v.FieldByIndex(f.index)
			if omitted(fv, f) {
				continue
			}
			e.element(f.name, fv, f.shape, f)
		}
	case qList:
		for i := range v.Len() {
			e.element(names.member, v.Index(i), s.elem, &nestedNames)
		}
	case qMap:
		for _, k := range sortedKeys(v) {
			e.open("entry")
			e.entry(k, v.MapIndex(k), s, names)
			e.close("entry")
		}
	default:
		e.scalar(v, s.kind)
	}
	e.close(name)
}

func (e *queryEncoder) entry(k, v reflect.Value, s *queryShape, names *queryField) {
	e.open(names.key)
	_ = xml.EscapeText(e.b, []byte(k.String()))
	e.close(names.key)
	if s.elem.ptr && v.IsNil() {
		return
	}
	e.element(names.data, v, s.elem, &nestedNames)
}

func (e *queryEncoder) open(name string)  { e.b.WriteString("<" + name + ">") }
func (e *queryEncoder) close(name string) { e.b.WriteString("</" + name + ">") }

// scalar writes v as text. EscapeText also escapes newlines and carriage
// returns, which XML parsers would otherwise normalize away.
func (e *queryEncoder) scalar(v reflect.Value, k queryKind) {
	var text []byte
	switch k {
	case qString:
		text = []byte(v.String())
	case qBool:
		text = strconv.AppendBool(nil, v.Bool())
	case qInt:
		text = strconv.AppendInt(nil, v.Int(), 10)
	case qUint:
		text = strconv.AppendUint(nil, v.Uint(), 10)
	case qFloat:
		f := v.Float()
		switch {
		case math.IsNaN(f):
			text = []byte("NaN")
		case math.IsInf(f, 1):
			text = []byte("Infinity")
		case math.IsInf(f, -1):
			text = []byte("-Infinity")
		default:
			text = strconv.AppendFloat(nil, f, 'g', -1, v.Type().Bits())
		}
	case qBlob:
		text = base64.StdEncoding.AppendEncode(nil, v.Bytes())
	case qTimestamp:
		text = v.Interface().(Timestamp).UTC().AppendFormat(nil, queryTimeFormat)
	case qTime:
		text = v.Interface().(time.Time).UTC().AppendFormat(nil, queryTimeFormat)
	}
	_ = xml.EscapeText(e.b, text)
}

// omitted says whether a member is left out of an answer: when nil, or
// zero and tagged omitempty (an empty list or map counts as zero, as in
// encoding/json).
func omitted(v reflect.Value, f *queryField) bool {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		return v.IsNil()
	case reflect.Slice, reflect.Map:
		return v.IsNil() || f.omitEmpty && v.Len() == 0
	}
	return f.omitEmpty && v.IsZero() && f.shape.kind != qStruct
}

// sortedKeys orders a map's keys so that answers are reproducible.
func sortedKeys(v reflect.Value) []reflect.Value {
	keys := v.MapKeys()
	slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
	return keys
}
