package awsapi

// The Query protocol (SQS's original API, which older SDKs, boto3 1.26
// and the AWS CLI 2.9 among them, still speak): a request is form
// parameters, an answer is XML. Both go through the structs JSON uses,
// named by the query tags queryshape.go reads.

import (
	"encoding/base64"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ContentTypeForm is the body of a Query-protocol POST.
const ContentTypeForm = "application/x-www-form-urlencoded"

// AWS's codes for Query parameters that do not parse as a form, and for
// one whose value does not decode.
const (
	CodeMalformedQueryString  = "MalformedQueryString"
	CodeInvalidParameterValue = "InvalidParameterValue"
)

// QueryProtocol is how one API reads and answers Query-protocol requests.
// An API keeps one and points each Query exchange's Query field at it.
type QueryProtocol struct {
	// Namespace is the xmlns of answers: SQS's is
	// http://queue.amazonaws.com/doc/2012-11-05/.
	Namespace string
	// Invalid is the answer to a parameter that does not decode, whose
	// Message the decoder sets; a zero Invalid means 400
	// InvalidParameterValue. An API sets its own to word the error as its
	// other errors are (SQS: a QueryCode, and the JSON type of its
	// validation errors).
	Invalid Error
}

// QueryForm returns the parameters of a Query-protocol request: a form
// POST (whose body it parses into r.Form) or a request with an Action in
// its URL. ok is false for other protocols. err, a 400
// MalformedQueryString, says the parameters did not all parse; form then
// holds those that did. net/http parses a body once, so only the first
// call sees that error: the Router makes that call and refuses such
// requests, so an API behind it never gets one.
func QueryForm(r *http.Request) (form url.Values, ok bool, err error) {
	var perr error
	switch {
	case r.Method == http.MethodPost && isFormPost(r):
		perr = r.ParseForm()
		form = r.Form
	case strings.Contains(r.URL.RawQuery, "Action="):
		form, perr = url.ParseQuery(r.URL.RawQuery)
		if form.Get("Action") == "" {
			return nil, false, nil
		}
	default:
		return nil, false, nil
	}
	if perr != nil {
		err = Errorf(http.StatusBadRequest, CodeMalformedQueryString, "the request's parameters do not parse: %v", perr)
	}
	return form, true, err
}

func isFormPost(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == ContentTypeForm
}

// Decode fills in, a pointer to a struct, from form, by the Query rules
// the AWS SDKs serialize with (botocore's QuerySerializer): a member is
// Name=value; a struct's members are Name.Member; a list is
// Name.member.N, or Name.N when flat; a map is Name.entry.N.key and
// Name.entry.N.value, or Name.N.Key and Name.N.Value when flat, with the
// names the query tag gives. Indexes count from 1 and their order is kept;
// gaps close up. Parameters no member names (Action, Version, a
// signature, the empty AttributeNames= botocore sends for an empty list)
// are ignored, as is all but the first of a repeated parameter. A value
// that does not parse is p.Invalid.
func (p *QueryProtocol) Decode(form url.Values, in any) error {
	v := reflect.ValueOf(in)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return fmt.Errorf("awsapi: query: decode into %T, not a pointer", in)
	}
	s, err := queryShapeOf(v.Type())
	if err != nil {
		return err
	}
	if s.kind != qStruct {
		return fmt.Errorf("awsapi: query: decode into %T, not a struct", in)
	}
	d := queryDecoder{p: p}
	return d.value(v, s, &nestedNames, formTree(form), "")
}

// formNode is one level of a form's dotted keys: A.1.B=x is
// root → A → 1 → B, which holds x.
type formNode struct {
	val    string
	hasVal bool
	kids   map[string]*formNode
}

func formTree(form url.Values) *formNode {
	root := &formNode{}
	for k, vs := range form {
		n := root
		for part := range strings.SplitSeq(k, ".") {
			next := n.kids[part]
			if next == nil {
				if n.kids == nil {
					n.kids = map[string]*formNode{}
				}
				next = &formNode{}
				n.kids[part] = next
			}
			n = next
		}
		if len(vs) > 0 {
			n.val, n.hasVal = vs[0], true
		}
	}
	return root
}

type queryDecoder struct{ p *QueryProtocol }

func (d *queryDecoder) invalid(param, val, reason string) *Error {
	e := d.p.Invalid
	if e.Type == "" {
		e = Error{Status: http.StatusBadRequest, Type: CodeInvalidParameterValue}
	}
	e.Message = fmt.Sprintf("Value %q for parameter %s is invalid. Reason: %s.", val, param, reason)
	return &e
}

// value decodes n, the node at key, into v by shape s; names are the
// names of a list's or map's entries.
func (d *queryDecoder) value(v reflect.Value, s *queryShape, names *queryField, n *formNode, key string) error {
	if s.ptr {
		if v.IsNil() {
			v.Set(reflect.New(s.typ))
		}
		v = v.Elem()
	}
	switch s.kind {
	case qStruct:
		for i := range s.fields {
			f := &s.fields[i]
			kid := n.kids[f.name]
			if kid == nil {
				continue
			}
			if err := d.value(v.FieldByIndex(f.index), f.shape, f, kid, join(key, f.name)); err != nil {
				return err
			}
		}
		return nil
	case qList:
		return d.list(v, s, names, n, key)
	case qMap:
		return d.mapValue(v, s, names, n, key)
	}
	if !n.hasVal {
		return nil
	}
	return d.scalar(v, s.kind, n.val, key)
}

func (d *queryDecoder) list(v reflect.Value, s *queryShape, names *queryField, n *formNode, key string) error {
	if !names.flat {
		if n = n.kids[names.member]; n == nil {
			return nil
		}
		key = join(key, names.member)
	}
	idx, err := d.indexes(n, key)
	if err != nil || len(idx) == 0 {
		return err
	}
	list := reflect.MakeSlice(s.typ, len(idx), len(idx))
	for i, ix := range idx {
		if err := d.value(list.Index(i), s.elem, &nestedNames, n.kids[ix.key], join(key, ix.key)); err != nil {
			return err
		}
	}
	v.Set(list)
	return nil
}

func (d *queryDecoder) mapValue(v reflect.Value, s *queryShape, names *queryField, n *formNode, key string) error {
	if !names.flat {
		if n = n.kids["entry"]; n == nil {
			return nil
		}
		key = join(key, "entry")
	}
	idx, err := d.indexes(n, key)
	if err != nil || len(idx) == 0 {
		return err
	}
	if v.IsNil() {
		v.Set(reflect.MakeMapWithSize(s.typ, len(idx)))
	}
	for _, ix := range idx {
		entry, ekey := n.kids[ix.key], join(key, ix.key)
		k := entry.kids[names.key]
		if k == nil || !k.hasVal {
			return d.invalid(join(ekey, names.key), "", "a map entry needs a "+names.key)
		}
		val := reflect.New(s.typ.Elem()).Elem()
		if vn := entry.kids[names.data]; vn != nil {
			if err := d.value(val, s.elem, &nestedNames, vn, join(ekey, names.data)); err != nil {
				return err
			}
		}
		v.SetMapIndex(reflect.ValueOf(k.val).Convert(s.typ.Key()), val)
	}
	return nil
}

type listIndex struct {
	n   int
	key string
}

// indexes returns the entries under n in index order. An index is a
// decimal from 1 written as strconv writes it, so that 1 and 01 cannot
// both name the first entry.
func (d *queryDecoder) indexes(n *formNode, key string) ([]listIndex, error) {
	idx := make([]listIndex, 0, len(n.kids))
	for k := range n.kids {
		i, err := strconv.Atoi(k)
		if err != nil || i < 1 || strconv.Itoa(i) != k {
			return nil, d.invalid(join(key, k), "", "a list or map index is a number from 1")
		}
		idx = append(idx, listIndex{i, k})
	}
	slices.SortFunc(idx, func(a, b listIndex) int { return a.n - b.n })
	return idx, nil
}

func (d *queryDecoder) scalar(v reflect.Value, k queryKind, s, key string) error {
	switch k {
	case qString:
		v.SetString(s)
	case qBool:
		switch strings.ToLower(s) {
		case "true":
			v.SetBool(true)
		case "false":
			v.SetBool(false)
		default:
			return d.invalid(key, s, "not a boolean")
		}
	case qInt:
		n, err := strconv.ParseInt(s, 10, v.Type().Bits())
		if err != nil {
			return d.invalid(key, s, "not an integer in range")
		}
		v.SetInt(n)
	case qUint:
		n, err := strconv.ParseUint(s, 10, v.Type().Bits())
		if err != nil {
			return d.invalid(key, s, "not an unsigned integer in range")
		}
		v.SetUint(n)
	case qFloat:
		f, err := strconv.ParseFloat(s, v.Type().Bits())
		if err != nil {
			return d.invalid(key, s, "not a number")
		}
		v.SetFloat(f)
	case qBlob:
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return d.invalid(key, s, "not base64")
		}
		v.SetBytes(b)
	case qTimestamp, qTime:
		t, ok := parseQueryTime(s)
		if !ok {
			return d.invalid(key, s, "not an ISO 8601 time or epoch seconds")
		}
		if k == qTimestamp {
			v.Set(reflect.ValueOf(Timestamp{t}))
		} else {
			v.Set(reflect.ValueOf(t))
		}
	}
	return nil
}

// parseQueryTime reads what SDKs send for a Query timestamp: ISO 8601
// (botocore), or epoch seconds, which some hand-written clients send.
func parseQueryTime(s string) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, true
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return fromEpochSeconds(f), true
	}
	return time.Time{}, false
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}
