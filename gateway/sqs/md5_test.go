package sqs

import "testing"

func TestMD5OfBody(t *testing.T) {
	tests := []struct{ body, want string }{
		// Answers of the real SQS, recorded by LocalStack's snapshot tests.
		{"test", "098f6bcd4621d373cade4e832627b4f6"},
		{"msg", "6e2baaf3b97dbeef01c0043275f9a0e7"},
		{"message-1", "3d6b824fd8c1520e9a047d21fee6fb1f"},
		{"Using name instead of URL", "86a83f96652a1bfad3891e7d523750cb"},
		{"", "d41d8cd98f00b204e9800998ecf8427e"},
	}
	for _, tt := range tests {
		if got := MD5OfBody(tt.body); got != tt.want {
			t.Errorf("MD5OfBody(%q) = %s, want %s", tt.body, got, tt.want)
		}
	}
}

func TestMD5OfMessageAttributes(t *testing.T) {
	tests := []struct {
		name  string
		attrs MessageAttributes
		want  string
	}{
		{"none", nil, ""},
		// The next six are MD5OfMessageAttributes answered by the real
		// SQS for these attributes, recorded by LocalStack's snapshot
		// tests (tests/aws/services/sqs/test_sqs.snapshot.json).
		{"one string", MessageAttributes{"MyAttribute": strAttr("String", "foobar")}, "adb59cd4678ea5a855436b949cd07ab6"},
		{"Foo", MessageAttributes{"Foo": strAttr("String", "Bar")}, "ae7155c6026991b6d54b11589678bf9c"},
		{"Hello", MessageAttributes{"Hello": strAttr("String", "There")}, "a311262e065454b75da111d535b8dacd"},
		{"two, sorted", MessageAttributes{"Hello": strAttr("String", "There"), "General": strAttr("String", "Kenobi")}, "fca026605781cb4126a1e9044df24232"},
		{"period sorts after letters", MessageAttributes{"Help.Me": strAttr("String", "Me"), "Hello": strAttr("String", "There")}, "83fee93c1bcd8b9a5a923ffacdc636c7"},
		{"binary", MessageAttributes{"attr1": binAttr("Binary", []byte("traceparent\x1e00-774062d6c37081a5a0b9b5b88e30627c-2d2482211f6489da-01"))}, "8cbe4db156db8a94db8b801b7addb984"},
		// Computed by hand (Python hashlib) from the algorithm:
		//   00000001 'n' 00000006 'Number' 01 00000001 '1'
		{"number", MessageAttributes{"n": strAttr("Number", "1")}, "ef88bdc4583394a9f2bcdc6a6f0ccbfe"},
		//   00000001 'b' 0000000a 'Binary.gif' 02 00000002 00 ff
		{"custom binary", MessageAttributes{"b": binAttr("Binary.gif", []byte{0x00, 0xff})}, "58ba245be41808944bc77d391ba9f4af"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MD5OfMessageAttributes(tt.attrs); got != tt.want {
				t.Fatalf("MD5OfMessageAttributes = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestMD5OfMessageSystemAttributes(t *testing.T) {
	// Computed by hand (Python hashlib) from the algorithm:
	//   0000000e 'AWSTraceHeader' 00000006 'String' 01 0000004a <header>
	attrs := MessageSystemAttributes{AWSTraceHeader: strAttr("String", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1")}
	if got, want := MD5OfMessageSystemAttributes(attrs), "5ae4d5d7636402d80f4eb6d213245a88"; got != want {
		t.Fatalf("MD5OfMessageSystemAttributes = %s, want %s", got, want)
	}
	if got := MD5OfMessageSystemAttributes(nil); got != "" {
		t.Fatalf("MD5OfMessageSystemAttributes(nil) = %q, want \"\"", got)
	}
}
