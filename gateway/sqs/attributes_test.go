package sqs

import (
	"fmt"
	"strings"
	"testing"
)

func TestMessageAttributesValidate(t *testing.T) {
	eleven := MessageAttributes{}
	for i := range 11 {
		eleven[fmt.Sprintf("a%d", i)] = strAttr("String", "v")
	}
	ten := MessageAttributes{}
	for i := range 10 {
		ten[fmt.Sprintf("a%d", i)] = strAttr("String", "v")
	}
	one := func(name string, v MessageAttributeValue) MessageAttributes { return MessageAttributes{name: v} }
	ok := strAttr("String", "v")
	typeErr := func(name string) *Error {
		return invalid("The type of message (user) attribute '%s' is invalid. You must use only the following supported type prefixes: Binary, Number, String.", name)
	}
	cast := func(name string) *Error {
		return invalid("Can't cast the value of message (user) attribute '%s' to a number.", name)
	}
	tests := []struct {
		name  string
		attrs MessageAttributes
		want  *Error
	}{
		{"none", nil, nil},
		{"ten", ten, nil},
		{"eleven", eleven, invalid("Number of message attributes [11] exceeds the allowed maximum [10].")},
		{"name every allowed character", one("aZ09_-.x", ok), nil},
		{"name 256", one(strings.Repeat("n", 256), ok), nil},
		{"name 257", one(strings.Repeat("n", 257), ok), invalid("Message (user) attribute name must be shorter than 256 bytes.")},
		{"name empty", one("", ok), invalid("The request must contain non-empty message (user) attribute names.")},
		{"name space", one("a b", ok), invalid("Message (user) attributes name can only contain upper and lower score characters, digits, periods, hyphens and underscores. ")},
		{"name non-ASCII", one("attrø", ok), invalid("Message (user) attributes name can only contain upper and lower score characters, digits, periods, hyphens and underscores. ")},
		{"name AWS.", one("AWS.x", ok), invalid("You can't use message attribute names beginning with 'AWS.' or 'Amazon.'. These strings are reserved for internal use.")},
		{"name aWs.", one("aWs.x", ok), invalid("You can't use message attribute names beginning with 'AWS.' or 'Amazon.'. These strings are reserved for internal use.")},
		{"name AMAZON.", one("AMAZON.x", ok), invalid("You can't use message attribute names beginning with 'AWS.' or 'Amazon.'. These strings are reserved for internal use.")},
		{"name AWSx allowed", one("AWSx", ok), nil},
		{"name Amazon allowed", one("Amazon", ok), nil},
		{"name leading period", one(".x", ok), invalid("Message (user) attribute name must not begin with character '.'.")},
		{"name trailing period", one("x.", ok), invalid("Message (user) attribute name must not end with character '.'.")},
		{"name two periods", one("a..b", ok), invalid("Message (user) attribute name must not have successive '.' characters.")},
		{"type missing", one("a", MessageAttributeValue{StringValue: str("v")}), invalid("The message (user) attribute 'a' must contain a non-empty message attribute type.")},
		{"type unknown", one("a", strAttr("Invalid", "v")), typeErr("a")},
		{"type lower case", one("a", strAttr("string", "v")), typeErr("a")},
		{"type prefix without period", one("a", strAttr("StringX", "v")), typeErr("a")},
		{"type empty label", one("a", strAttr("String.", "v")), typeErr("a")},
		{"type custom", one("a", strAttr("Number.java.lang.Long", "1")), nil},
		{"type custom binary", one("a", binAttr("Binary.gif", []byte{0})), nil},
		{"type 256", one("a", strAttr("String."+strings.Repeat("l", 249), "v")), nil},
		{"type 257", one("a", strAttr("String."+strings.Repeat("l", 250), "v")), invalid("Message (user) attribute type must be shorter than 256 bytes.")},
		{"string empty", one("ErrorDetails", strAttr("String", "")), invalid("Message (user) attribute 'ErrorDetails' must contain a non-empty value of type 'String'.")},
		{"string missing", one("a", MessageAttributeValue{DataType: "String"}), invalid("Message (user) attribute 'a' must contain a non-empty value of type 'String'.")},
		{"custom string empty", one("a", strAttr("String.x", "")), invalid("Message (user) attribute 'a' must contain a non-empty value of type 'String'.")},
		{"string in binary field", one("a", binAttr("String", []byte("v"))), invalid("Message (user) attribute 'a' with type 'String' must use field 'String'.")},
		{"binary in string field", one("a", strAttr("Binary", "v")), invalid("Message (user) attribute 'a' with type 'Binary' must use field 'Binary'.")},
		{"binary empty", one("a", binAttr("Binary", []byte{})), invalid("Message (user) attribute 'a' must contain a non-empty value of type 'Binary'.")},
		{"both values", one("a", MessageAttributeValue{DataType: "String", StringValue: str("v"), BinaryValue: []byte("v")}), invalid("Message (user) attribute 'a' must have a single value.")},
		{"string list", one("a", MessageAttributeValue{DataType: "String", StringListValues: []string{"v"}}), newError(ErrUnsupportedOperation, "Message attribute list values in SendMessage operation are not supported.")},
		{"binary list", one("a", MessageAttributeValue{DataType: "Binary", BinaryListValues: [][]byte{{1}}}), newError(ErrUnsupportedOperation, "Message attribute list values in SendMessage operation are not supported.")},
		{"empty lists ignored", one("a", MessageAttributeValue{DataType: "String", StringValue: str("v"), StringListValues: []string{}}), nil},
		{"string allowed characters", one("a", strAttr("String", "\t\n\r ~\u00e9\ud7ff\ue000\ufffd\U00010000\U0010ffff")), nil},
		{"string control character", one("attr1", strAttr("String", "Invalid-\b,\v")), invalid("Invalid binary character '#x8' was found in the value of message (user) attribute 'attr1', the set of allowed characters is #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF].")},
		{"string U+FFFF", one("a", strAttr("String", "\uffff")), invalid("Invalid binary character '#xFFFF' was found in the value of message (user) attribute 'a', the set of allowed characters is #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF].")},
		{"string not UTF-8", one("a", strAttr("String", "a\xffb")), invalid("Invalid binary character '#xFF' was found in the value of message (user) attribute 'a', the set of allowed characters is #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF].")},
		{"number", one("a", strAttr("Number", "1614717034367")), nil},
		{"number not a number", one("Age", strAttr("Number", "Hello")), cast("Age")},
		{"number empty", one("a", strAttr("Number", "")), invalid("Message (user) attribute 'a' must contain a non-empty value of type 'Number'.")},
		{"number out of range", one("a", strAttr("Number", "1e127")), cast("a")},
		{"first refusal in name order", MessageAttributes{"b": strAttr("Bad", "v"), "a": strAttr("Number", "x")}, cast("a")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkError(t, tt.attrs.Validate(), tt.want)
		})
	}
}

func TestMessageAttributesAdd(t *testing.T) {
	m := MessageAttributes{}
	checkError(t, m.Add("a", strAttr("String", "1")), nil)
	checkError(t, m.Add("a", strAttr("String", "2")), invalid("Message (user) attribute name 'a' already exists."))
	if got := *m["a"].StringValue; got != "1" {
		t.Fatalf("a = %q after a refused duplicate, want the first value", got)
	}
}

func TestMessageSystemAttributesValidate(t *testing.T) {
	const header = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
	tests := []struct {
		name  string
		attrs MessageSystemAttributes
		want  *Error
	}{
		{"none", nil, nil},
		{"trace header", MessageSystemAttributes{AWSTraceHeader: strAttr("String", header)}, nil},
		{"other name", MessageSystemAttributes{"Foo": strAttr("String", "x")}, invalid("Message system attribute name 'Foo' is invalid.")},
		{"binary", MessageSystemAttributes{AWSTraceHeader: binAttr("Binary", []byte("x"))}, invalid("The type of message system attribute 'AWSTraceHeader' is invalid. You must use only the following supported type prefixes: String.")},
		{"custom type", MessageSystemAttributes{AWSTraceHeader: strAttr("String.x", "x")}, invalid("The type of message system attribute 'AWSTraceHeader' is invalid. You must use only the following supported type prefixes: String.")},
		{"empty", MessageSystemAttributes{AWSTraceHeader: strAttr("String", "")}, invalid("Message system attribute 'AWSTraceHeader' must contain a non-empty value of type 'String'.")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkError(t, tt.attrs.Validate(), tt.want)
		})
	}
}
