package kinesis

// A decoder for the JSON body of PutRecords, the busiest request: 500
// records of base64 data. encoding/json scans such a body twice (once to
// find and check it, once to decode) and copies each Data string before
// decoding its base64; this reads it once and decodes base64 straight
// into the records' buffer. It accepts only the shape SDKs send (the keys
// below, ASCII strings without escapes, no nulls or numbers) and gives up
// on anything else, leaving that body to encoding/json, so what it does
// accept decodes exactly as encoding/json would (FuzzPutRecordsFastJSON
// holds it to that).
//
// The records' data are decoded back to back into one slab, the caller's
// scratch buffer when it gives one (the handler pools them, as it does
// bodies), rather than into a buffer per record: the data live only as
// long as the request, and 500 allocations per call cost more than the
// decoding.

import (
	"bytes"
	"encoding/base64"

	"github.com/streambridge/bridge/gateway/awsapi"
)

func (in *putRecordsInput) decodeFastJSON(body []byte, scratch *[]byte) bool {
	// Base64 is longer than what it encodes, so the data of all records fit
	// in 3/4 of the body: the slab never moves once sized.
	if scratch == nil {
		scratch = new([]byte)
	}
	need := len(body) / 4 * 3
	if cap(*scratch) < need {
		*scratch = make([]byte, 0, need)
	}
	d := fastDecoder{JSONScanner: awsapi.JSONScanner{B: body}, slab: (*scratch)[:0]}
	var out putRecordsInput
	if !d.Object(func(key []byte) bool {
		switch string(key) {
		case "Records":
			return d.records(&out.Records)
		case "StreamName":
			return d.StringPtr(&out.StreamName)
		case "StreamARN":
			return d.StringPtr(&out.StreamARN)
		case "StreamId":
			return d.StringPtr(&out.StreamId)
		case "DryRun":
			return d.BoolPtr(&out.DryRun)
		}
		return false
	}) {
		return false
	}
	if !d.End() {
		return false // more after the object: encoding/json reports it
	}
	*in = out
	return true
}

// fastDecoder is a JSON scanner that decodes base64 into a slab.
type fastDecoder struct {
	awsapi.JSONScanner
	slab []byte // decoded data, appended
}

func (d *fastDecoder) records(dst *[]putRecordsEntry) bool {
	if !d.Next('[') {
		return false
	}
	out := make([]putRecordsEntry, 0, 16)
	if !d.Next(']') {
		for {
			var e putRecordsEntry
			if !d.Object(func(key []byte) bool {
				switch string(key) {
				case "Data":
					return d.base64(&e.Data)
				case "PartitionKey":
					return d.StringPtr(&e.PartitionKey)
				case "ExplicitHashKey":
					return d.StringPtr(&e.ExplicitHashKey)
				}
				return false
			}) {
				return false
			}
			out = append(out, e)
			if d.Next(',') {
				continue
			}
			if !d.Next(']') {
				return false
			}
			break
		}
	}
	*dst = out
	return true
}

// base64 decodes a standard base64 string the way encoding/json does for a
// []byte. The string ends at the first quote: base64 has no quote, and
// anything else JSON would escape, or control characters, fails the
// decoding, except for \r and \n, which base64.StdEncoding skips and which
// the length check below catches.
func (d *fastDecoder) base64(dst *[]byte) bool {
	if !d.Next('"') {
		return false
	}
	end := bytes.IndexByte(d.B[d.I:], '"')
	if end < 0 {
		return false
	}
	s := d.B[d.I : d.I+end]
	d.I += end + 1
	if len(s)%4 != 0 {
		return false
	}
	// Every string so far was a multiple of 4 long and decoded to at most
	// 3/4 of it, so DecodedLen(len(s)) more still fits in the slab.
	start := len(d.slab)
	n, err := base64.StdEncoding.Decode(d.slab[start:start+len(s)/4*3], s)
	if err != nil || n != len(s)/4*3-padding(s) {
		return false
	}
	d.slab = d.slab[:start+n]
	*dst = d.slab[start : start+n : start+n]
	return true
}

// padding counts the '=' that end a base64 string, at most two.
func padding(s []byte) int {
	n := 0
	for i := len(s) - 1; i >= 0 && n < 2 && s[i] == '='; i-- {
		n++
	}
	return n
}
