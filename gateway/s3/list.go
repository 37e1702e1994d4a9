package s3

// Listing objects: ListObjectsV2 and ListObjects (v1). The store lists
// keys in order; delimiters are done here: a key with the delimiter after
// the prefix rolls up into a common prefix, and the listing resumes after
// every key of that prefix.

import (
	"encoding/base64"
	"encoding/xml"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/streambridge/bridge/store"
)

// afterPrefix sorts after every key that starts with p: keys are UTF-8,
// which never holds the byte 0xFF.
func afterPrefix(p string) string { return p + "\xff" }

type listEntry struct {
	Key               string
	LastModified      string
	ETag              string
	Size              int64
	StorageClass      string
	ChecksumAlgorithm []string `xml:",omitempty"`
	Owner             *owner   `xml:",omitempty"`
}

type commonPrefix struct {
	Prefix string
}

// listing is one page of a listing.
type listing struct {
	entries   []listEntry
	prefixes  []commonPrefix
	truncated bool
	// cursor is where the next page starts (exclusive): the last key,
	// or afterPrefix of the last common prefix.
	cursor string
	last   string // the last key or common prefix listed
}

// list lists up to max keys and common prefixes after the exclusive
// cursor.
func (h *Handler) list(x *exchange, prefix, delim, after string, maxKeys int, fetchOwner bool) (listing, error) {
	var l listing
	ctx := x.r.Context()
	if _, err := h.objs.HeadBucket(ctx, x.bucket); err != nil {
		return l, err
	}
	l.cursor = after
	if maxKeys == 0 {
		return l, nil
	}
	o := h.owner()
	for {
		objs, more, err := h.objs.ListObjects(ctx, x.bucket, store.ListOptions{Prefix: prefix, After: l.cursor, Max: 1000})
		if err != nil {
			return l, err
		}
		for _, obj := range objs {
			if len(l.entries)+len(l.prefixes) == maxKeys {
				l.truncated = true
				return l, nil
			}
			if delim != "" {
				if i := strings.Index(obj.Key[len(prefix):], delim); i >= 0 {
					cp := obj.Key[:len(prefix)+i+len(delim)]
					l.prefixes = append(l.prefixes, commonPrefix{cp})
					l.cursor, l.last = afterPrefix(cp), cp
					break // list again after the prefix
				}
			}
			e := listEntry{Key: obj.Key, LastModified: obj.LastModified.UTC().Format(timeFormatXML), ETag: obj.ETag, Size: obj.Size, StorageClass: "STANDARD"}
			for alg := range obj.Checksums {
				e.ChecksumAlgorithm = append(e.ChecksumAlgorithm, alg)
			}
			slices.Sort(e.ChecksumAlgorithm)
			if fetchOwner {
				e.Owner = &o
			}
			l.entries = append(l.entries, e)
			l.cursor, l.last = obj.Key, obj.Key
		}
		if !more && (len(objs) == 0 || l.cursor == objs[len(objs)-1].Key) {
			return l, nil
		}
	}
}

type listV2Result struct {
	XMLName               xml.Name `xml:"ListBucketResult"`
	Xmlns                 string   `xml:"xmlns,attr"`
	Name                  string
	Prefix                string
	Delimiter             string `xml:",omitempty"`
	MaxKeys               int
	KeyCount              int
	IsTruncated           bool
	ContinuationToken     string `xml:",omitempty"`
	NextContinuationToken string `xml:",omitempty"`
	StartAfter            string `xml:",omitempty"`
	EncodingType          string `xml:",omitempty"`
	Contents              []listEntry
	CommonPrefixes        []commonPrefix
}

// listParams reads what both listings share.
func listParams(q url.Values) (prefix, delim string, maxKeys int, encode func(string) string, err error) {
	maxKeys = 1000
	if v := q.Get("max-keys"); v != "" {
		n, perr := strconv.Atoi(v)
		if perr != nil || n < 0 {
			return "", "", 0, nil, invalidArgument("Provided max-keys not an integer or within integer range")
		}
		maxKeys = min(n, 1000)
	}
	encode = func(s string) string { return s }
	switch et := q.Get("encoding-type"); et {
	case "":
	case "url":
		encode = url.QueryEscape
	default:
		return "", "", 0, nil, invalidArgument("Invalid Encoding Method specified in Request")
	}
	return q.Get("prefix"), q.Get("delimiter"), maxKeys, encode, nil
}

func (h *Handler) listObjectsV2(x *exchange) error {
	prefix, delim, maxKeys, enc, err := listParams(x.query)
	if err != nil {
		return err
	}
	after := x.query.Get("start-after")
	token := x.query.Get("continuation-token")
	if token != "" {
		b, derr := base64.RawURLEncoding.DecodeString(token)
		if derr != nil {
			return invalidArgument("The continuation token provided is incorrect")
		}
		after = string(b)
	}
	l, err := h.list(x, prefix, delim, after, maxKeys, x.query.Get("fetch-owner") == "true")
	if err != nil {
		return err
	}
	res := listV2Result{Xmlns: xmlns, Name: x.bucket, Prefix: enc(prefix), MaxKeys: maxKeys, KeyCount: len(l.entries) + len(l.prefixes),
		IsTruncated: l.truncated, ContinuationToken: token, StartAfter: enc(x.query.Get("start-after")), Contents: l.entries, CommonPrefixes: l.prefixes}
	if delim != "" {
		res.Delimiter = enc(delim)
	}
	if x.query.Get("encoding-type") != "" {
		res.EncodingType = "url"
	}
	if l.truncated {
		res.NextContinuationToken = base64.RawURLEncoding.EncodeToString([]byte(l.cursor))
	}
	encodeEntries(res.Contents, res.CommonPrefixes, enc)
	return respondXML(x, res)
}

func encodeEntries(es []listEntry, cps []commonPrefix, enc func(string) string) {
	for i := range es {
		es[i].Key = enc(es[i].Key)
	}
	for i := range cps {
		cps[i].Prefix = enc(cps[i].Prefix)
	}
}

type listV1Result struct {
	XMLName        xml.Name `xml:"ListBucketResult"`
	Xmlns          string   `xml:"xmlns,attr"`
	Name           string
	Prefix         string
	Marker         string
	NextMarker     string `xml:",omitempty"`
	MaxKeys        int
	Delimiter      string `xml:",omitempty"`
	IsTruncated    bool
	EncodingType   string `xml:",omitempty"`
	Contents       []listEntry
	CommonPrefixes []commonPrefix
}

// listObjectsV1 is ListObjects: a marker instead of a token. A marker
// that is a common prefix (a NextMarker this API sent) resumes after
// every key under it.
func (h *Handler) listObjectsV1(x *exchange) error {
	prefix, delim, maxKeys, enc, err := listParams(x.query)
	if err != nil {
		return err
	}
	marker := x.query.Get("marker")
	after := marker
	if delim != "" && strings.HasPrefix(marker, prefix) && strings.HasSuffix(marker, delim) {
		after = afterPrefix(marker)
	}
	l, err := h.list(x, prefix, delim, after, maxKeys, true)
	if err != nil {
		return err
	}
	res := listV1Result{Xmlns: xmlns, Name: x.bucket, Prefix: enc(prefix), Marker: enc(marker), MaxKeys: maxKeys,
		IsTruncated: l.truncated, Contents: l.entries, CommonPrefixes: l.prefixes}
	if delim != "" {
		res.Delimiter = enc(delim)
	}
	if x.query.Get("encoding-type") != "" {
		res.EncodingType = "url"
	}
	if l.truncated {
		res.NextMarker = enc(l.last)
	}
	encodeEntries(res.Contents, res.CommonPrefixes, enc)
	return respondXML(x, res)
}
