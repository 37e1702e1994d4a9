package sqs

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/streambridge/bridge/connect"
)

// messageBody is the SQS body of a record value: a string as it is, bytes as
// their text when SQS takes them, anything else (maps, structs, numbers) as
// JSON. A null value and text SQS refuses are errors.
func messageBody(v any) (string, error) {
	var s string
	switch x := v.(type) {
	case nil:
		return "", errors.New("a null value cannot be sent as an SQS message")
	case string:
		s = x
	case []byte:
		s = string(x)
	default:
		b, err := json.Marshal(plain(x))
		if err != nil {
			return "", fmt.Errorf("value as JSON: %w", err)
		}
		s = string(b)
	}
	if s == "" {
		return "", errors.New("an empty value cannot be sent as an SQS message")
	}
	if !validText(s) {
		return "", errors.New("the value has characters SQS does not allow in a message body (invalid UTF-8 or control characters)")
	}
	return s, nil
}

// plain turns Connect data into values encoding/json writes as Kafka's
// JsonConverter without schemas does: structs as objects, bytes as base64.
func plain(v any) any {
	switch x := v.(type) {
	case *connect.Struct:
		m := make(map[string]any, len(x.Values))
		for _, f := range x.Schema.Fields {
			m[f.Name] = plain(x.Values[f.Index])
		}
		return m
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = plain(e)
		}
		return m
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plain(e)
		}
		return out
	case []byte:
		return base64.StdEncoding.EncodeToString(x)
	case time.Time:
		return x.UnixMilli()
	case *big.Int:
		return x.String()
	}
	return v
}

// validText tells text SQS accepts: #x9 | #xA | #xD | #x20 to #xD7FF |
// #xE000 to #xFFFD | #x10000 to #x10FFFF, in valid UTF-8.
func validText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		switch {
		case r == 0x9 || r == 0xA || r == 0xD:
		case r >= 0x20 && r <= 0xD7FF:
		case r >= 0xE000 && r <= 0xFFFD:
		case r >= 0x10000 && r <= 0x10FFFF:
		default:
			return false
		}
	}
	return true
}

// headerAttributes returns the headers SQS takes as String attributes: a
// valid attribute name, a non-empty valid value; the last header of a name
// wins, and at most ten are kept, first names first.
func headerAttributes(hs []connect.Header) map[string]sqstypes.MessageAttributeValue {
	var out map[string]sqstypes.MessageAttributeValue
	for _, h := range hs {
		if !validAttributeName(h.Key) || len(h.Value) == 0 || !validText(string(h.Value)) {
			continue
		}
		if _, seen := out[h.Key]; !seen && len(out) == maxAttributes {
			continue
		}
		if out == nil {
			out = make(map[string]sqstypes.MessageAttributeValue)
		}
		out[h.Key] = sqstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(string(h.Value))}
	}
	return out
}

// validAttributeName is SQS's rule for message attribute names.
func validAttributeName(name string) bool {
	if name == "" || len(name) > 256 || name[0] == '.' || name[len(name)-1] == '.' || strings.Contains(name, "..") {
		return false
	}
	lower := strings.ToLower(name)
	if strings.HasPrefix(lower, "aws.") || strings.HasPrefix(lower, "amazon.") {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}
