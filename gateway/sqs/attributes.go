package sqs

import (
	"slices"
	"strings"
)

// MessageAttributeValue is the value of a message attribute or a message
// system attribute, with SQS JSON 1.0's field names; encoding/json writes
// BinaryValue in base64, as SQS does.
type MessageAttributeValue struct {
	// DataType is String, Number or Binary, optionally followed by a
	// period and a custom label (Number.float, Binary.gif).
	DataType string `json:"DataType"`
	// StringValue is the value of a String or Number attribute.
	StringValue *string `json:"StringValue,omitempty"`
	// BinaryValue is the value of a Binary attribute.
	BinaryValue []byte `json:"BinaryValue,omitempty"`
	// StringListValues is reserved by the API; SQS refuses it.
	StringListValues []string `json:"StringListValues,omitempty" query:"StringListValue,flat"`
	// BinaryListValues is reserved by the API; SQS refuses it.
	BinaryListValues [][]byte `json:"BinaryListValues,omitempty" query:"BinaryListValue,flat"`
}

// MessageAttributes are a message's user attributes by name.
type MessageAttributes map[string]MessageAttributeValue

// MessageSystemAttributes are a message's system attributes by name; SQS
// knows one, AWSTraceHeader.
type MessageSystemAttributes map[string]MessageAttributeValue

// Limits on message attributes, from the SQS developer guide.
const (
	// MaxMessageAttributes is the most attributes a message may carry.
	MaxMessageAttributes = 10
	// MaxAttributeNameLength bounds a name in bytes; the guide says "up to
	// 256 characters" and every allowed name character is one byte.
	MaxAttributeNameLength = 256
	// MaxAttributeTypeLength bounds a data type, label included, in bytes.
	MaxAttributeTypeLength = 256
)

// AWSTraceHeader is the one message system attribute SQS accepts: an X-Ray
// trace header, of type String.
const AWSTraceHeader = "AWSTraceHeader"

// The base data types, and the transport types they are hashed as.
const (
	typeString = "String"
	typeNumber = "Number"
	typeBinary = "Binary"
)

// Who an attribute belongs to, as SQS's messages name it.
const (
	kindUser   = "(user)"
	kindSystem = "system"
)

// Add adds an attribute to m, refusing a name m already has. It is for the
// Query protocol, whose numbered MessageAttribute.N.Name parameters can
// repeat a name; a JSON request's map cannot.
func (m MessageAttributes) Add(name string, v MessageAttributeValue) error {
	if _, dup := m[name]; dup {
		// Worded after AWS's other name refusals; no capture of this one
		// was found.
		return newError(ErrInvalidParameterValue, "Message (user) attribute name '%s' already exists.", name)
	}
	m[name] = v
	return nil
}

// Validate checks message attributes as SendMessage does and returns the
// first refusal as an *Error. The count is checked first, then each
// attribute in name order, so that a message breaking several rules is
// always refused for the same one.
func (m MessageAttributes) Validate() error {
	if len(m) > MaxMessageAttributes {
		// Real SQS (the count in brackets), reproduced alike by elasticmq
		// and local-aws-sqs.
		return newError(ErrInvalidParameterValue,
			"Number of message attributes [%d] exceeds the allowed maximum [%d].", len(m), MaxMessageAttributes)
	}
	for _, name := range sortedNames(m) {
		if err := validateName(kindUser, name); err != nil {
			return err
		}
		if err := validateValue(kindUser, name, m[name]); err != nil {
			return err
		}
	}
	return nil
}

// Validate checks message system attributes as SendMessage does: only
// AWSTraceHeader, of type String, with a value like a String attribute's.
func (m MessageSystemAttributes) Validate() error {
	for _, name := range sortedNames(m) {
		if name != AWSTraceHeader {
			// The wording of SQS emulators (goaws, local-aws-sqs).
			return newError(ErrInvalidParameterValue, "Message system attribute name '%s' is invalid.", name)
		}
		v := m[name]
		if v.DataType != typeString {
			// Worded as the user attributes' type refusal; no capture found.
			return newError(ErrInvalidParameterValue,
				"The type of message system attribute '%s' is invalid. You must use only the following supported type prefixes: String.", name)
		}
		if err := validateValue(kindSystem, name, v); err != nil {
			return err
		}
	}
	return nil
}

// sortedNames returns m's names in byte order, the order the MD5s use too.
func sortedNames(m map[string]MessageAttributeValue) []string {
	names := make([]string, 0, len(m))
	for name := range m {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// validateName checks an attribute name against the developer guide: 1 to
// 256 of A-Z a-z 0-9 _ - ., not beginning with AWS. or Amazon. in any
// case, not beginning or ending with a period, no two periods in a row.
// The messages are local-aws-sqs's, which words each rule apart, except
// where LocalStack's (tested against AWS) differ.
func validateName(kind, name string) error {
	switch {
	case name == "":
		return newError(ErrInvalidParameterValue, "The request must contain non-empty message %s attribute names.", kind)
	case len(name) > MaxAttributeNameLength:
		return newError(ErrInvalidParameterValue, "Message %s attribute name must be shorter than %d bytes.", kind, MaxAttributeNameLength)
	case !validNameChars(name):
		// LocalStack's text, trailing space included.
		return newError(ErrInvalidParameterValue,
			"Message %s attributes name can only contain upper and lower score characters, digits, periods, hyphens and underscores. ", kind)
	case hasPrefixFold(name, "aws.") || hasPrefixFold(name, "amazon."):
		return newError(ErrInvalidParameterValue,
			"You can't use message attribute names beginning with 'AWS.' or 'Amazon.'. These strings are reserved for internal use.")
	case strings.HasPrefix(name, "."):
		return newError(ErrInvalidParameterValue, "Message %s attribute name must not begin with character '.'.", kind)
	case strings.HasSuffix(name, "."):
		return newError(ErrInvalidParameterValue, "Message %s attribute name must not end with character '.'.", kind)
	case strings.Contains(name, ".."):
		return newError(ErrInvalidParameterValue, "Message %s attribute name must not have successive '.' characters.", kind)
	}
	return nil
}

// validNameChars reports whether name has only A-Z a-z 0-9 _ - and '.'.
// All are ASCII, so a byte loop also refuses every multi-byte character.
func validNameChars(name string) bool {
	for i := 0; i < len(name); i++ {
		switch c := name[i]; {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '_', c == '-', c == '.':
		default:
			return false
		}
	}
	return true
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// baseType returns the base type of a data type (String, Number or
// Binary) and whether the data type is valid: a base type, or a base type,
// a period and a non-empty custom label. SQS does not document what a label
// may hold; the label is held to the characters a String value may hold, so
// that what SQS accepts (Number.java.lang.Long, Binary.gif) is accepted.
func baseType(dataType string) (string, bool) {
	base, label, custom := strings.Cut(dataType, ".")
	switch base {
	case typeString, typeNumber, typeBinary:
	default:
		return "", false
	}
	if custom {
		if _, bad := firstDisallowed(label); bad || label == "" {
			return "", false
		}
	}
	return base, true
}

// validateValue checks an attribute's data type and value. The messages
// with a capture from the real service say so; the others are
// local-aws-sqs's, which alone words these rules.
func validateValue(kind, name string, v MessageAttributeValue) error {
	if len(v.StringListValues) > 0 || len(v.BinaryListValues) > 0 {
		// Real SQS (a botocore UnsupportedOperation quoted in a bug report).
		return newError(ErrUnsupportedOperation, "Message attribute list values in SendMessage operation are not supported.")
	}
	if v.DataType == "" {
		return newError(ErrInvalidParameterValue,
			"The message %s attribute '%s' must contain a non-empty message attribute type.", kind, name)
	}
	if len(v.DataType) > MaxAttributeTypeLength {
		return newError(ErrInvalidParameterValue, "Message %s attribute type must be shorter than %d bytes.", kind, MaxAttributeTypeLength)
	}
	base, ok := baseType(v.DataType)
	if !ok {
		return newError(ErrInvalidParameterValue,
			"The type of message %s attribute '%s' is invalid. You must use only the following supported type prefixes: Binary, Number, String.",
			kind, name)
	}
	if v.StringValue != nil && v.BinaryValue != nil {
		return newError(ErrInvalidParameterValue, "Message %s attribute '%s' must have a single value.", kind, name)
	}
	// Real SQS: "Message (user) attribute 'ErrorDetails' must contain a
	// non-empty value of type 'String'." (LocalStack's snapshot).
	empty := newError(ErrInvalidParameterValue, "Message %s attribute '%s' must contain a non-empty value of type '%s'.", kind, name, base)
	if base == typeBinary {
		if v.StringValue != nil {
			return newError(ErrInvalidParameterValue, "Message %s attribute '%s' with type 'Binary' must use field 'Binary'.", kind, name)
		}
		if len(v.BinaryValue) == 0 {
			return empty
		}
		return nil
	}
	if v.BinaryValue != nil {
		return newError(ErrInvalidParameterValue, "Message %s attribute '%s' with type '%s' must use field 'String'.", kind, name, base)
	}
	if v.StringValue == nil || *v.StringValue == "" {
		return empty
	}
	if base == typeNumber {
		if !validNumber(*v.StringValue) {
			// Real SQS (boto3 against the live service, quoted in an
			// emulator's tests); used for range and precision too, which
			// have no capture.
			return newError(ErrInvalidParameterValue, "Can't cast the value of message %s attribute '%s' to a number.", kind, name)
		}
		return nil
	}
	if c, bad := firstDisallowed(*v.StringValue); bad {
		// SQS answers InvalidParameterValue here, not the body's
		// InvalidMessageContents (LocalStack, tested against AWS); the
		// wording follows the body's, which no capture contradicts.
		return newError(ErrInvalidParameterValue,
			"Invalid binary character '%s' was found in the value of message %s attribute '%s', the set of allowed characters is %s.",
			c, kind, name, allowedCharacters)
	}
	return nil
}

// valueLen is the length SQS counts for the attribute's value.
func (v MessageAttributeValue) valueLen() int {
	if v.StringValue != nil {
		return len(*v.StringValue)
	}
	return len(v.BinaryValue)
}
