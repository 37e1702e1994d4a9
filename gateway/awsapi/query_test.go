package awsapi

import (
	"errors"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

// SQS-like inputs and outputs, tagged as the SQS API will tag its own: json
// names for JSON 1.0, query names where SQS's Query model differs
// (botocore's sqs/2012-11-05 model for the query protocol).
type (
	tMessageAttributeValue struct {
		StringValue      *string  `json:"StringValue,omitempty"`
		BinaryValue      []byte   `json:"BinaryValue,omitempty"`
		StringListValues []string `json:"StringListValues,omitempty" query:"StringListValue,flat"`
		BinaryListValues [][]byte `json:"BinaryListValues,omitempty" query:"BinaryListValue,flat"`
		DataType         string   `json:"DataType"`
	}
	tSendMessageBatchRequestEntry struct {
		Id                string                            `json:"Id"`
		MessageBody       string                            `json:"MessageBody"`
		DelaySeconds      *int32                            `json:"DelaySeconds,omitempty"`
		MessageAttributes map[string]tMessageAttributeValue `json:"MessageAttributes,omitempty" query:"MessageAttribute,flat,entry=Name/Value"`
		MessageGroupId    *string                           `json:"MessageGroupId,omitempty"`
	}
	tSendMessageBatchInput struct {
		QueueUrl string                          `json:"QueueUrl"`
		Entries  []tSendMessageBatchRequestEntry `json:"Entries" query:"SendMessageBatchRequestEntry,flat"`
	}
	tCreateQueueInput struct {
		QueueName  string            `json:"QueueName"`
		Attributes map[string]string `json:"Attributes,omitempty" query:"Attribute,flat,entry=Name/Value"`
		Tags       map[string]string `json:"tags,omitempty" query:"Tag,flat,entry=Key/Value"`
	}
	tReceiveMessageInput struct {
		QueueUrl              string   `json:"QueueUrl"`
		AttributeNames        []string `json:"AttributeNames,omitempty" query:"AttributeName,flat"`
		MessageAttributeNames []string `json:"MessageAttributeNames,omitempty" query:"MessageAttributeName,flat"`
		MaxNumberOfMessages   *int32   `json:"MaxNumberOfMessages,omitempty"`
		WaitTimeSeconds       *int32   `json:"WaitTimeSeconds,omitempty"`
	}
	tSetQueueAttributesInput struct {
		QueueUrl   string            `json:"QueueUrl"`
		Attributes map[string]string `json:"Attributes" query:"Attribute,flat,entry=Name/Value"`
	}
	tGetQueueAttributesInput struct {
		QueueUrl       string   `json:"QueueUrl"`
		AttributeNames []string `json:"AttributeNames,omitempty" query:"AttributeName,flat"`
	}
	tListQueuesInput struct {
		QueueNamePrefix *string `json:"QueueNamePrefix,omitempty"`
		MaxResults      *int32  `json:"MaxResults,omitempty"`
	}

	tListQueuesOutput struct {
		QueueUrls []string `json:"QueueUrls,omitempty" query:"QueueUrl,flat"`
		NextToken *string  `json:"NextToken,omitempty"`
	}
	tMessage struct {
		MessageId         *string                           `json:"MessageId,omitempty"`
		ReceiptHandle     *string                           `json:"ReceiptHandle,omitempty"`
		MD5OfBody         *string                           `json:"MD5OfBody,omitempty"`
		Body              *string                           `json:"Body,omitempty"`
		Attributes        map[string]string                 `json:"Attributes,omitempty" query:"Attribute,flat,entry=Name/Value"`
		MessageAttributes map[string]tMessageAttributeValue `json:"MessageAttributes,omitempty" query:"MessageAttribute,flat,entry=Name/Value"`
	}
	tReceiveMessageOutput struct {
		Messages []tMessage `json:"Messages,omitempty" query:"Message,flat"`
	}
	tSendMessageBatchResultEntry struct {
		Id               string `json:"Id"`
		MessageId        string `json:"MessageId"`
		MD5OfMessageBody string `json:"MD5OfMessageBody"`
	}
	tBatchResultErrorEntry struct {
		Id          string  `json:"Id"`
		SenderFault bool    `json:"SenderFault"`
		Code        string  `json:"Code"`
		Message     *string `json:"Message,omitempty"`
	}
	tSendMessageBatchOutput struct {
		Successful []tSendMessageBatchResultEntry `json:"Successful" query:"SendMessageBatchResultEntry,flat"`
		Failed     []tBatchResultErrorEntry       `json:"Failed" query:"BatchResultErrorEntry,flat"`
	}
	tGetQueueAttributesOutput struct {
		Attributes map[string]string `json:"Attributes,omitempty" query:"Attribute,flat,entry=Name/Value"`
	}
)

// tKinds has the member kinds SQS does not use, and the unflattened list
// and map forms.
type tKinds struct {
	B      bool              `json:"B"`
	U      uint8             `json:"U"`
	F      float64           `json:"F"`
	When   *Timestamp        `json:"When,omitempty"`
	T      time.Time         `json:"T"`
	List   []string          `json:"List,omitempty" query:"Item"`
	Named  []int             `json:"Named,omitempty" query:"Named,member=n"`
	Map    map[string]string `json:"Map,omitempty"`
	Nested *struct {
		X string `json:"X"`
	} `json:"Nested,omitempty"`
	Skipped string `query:"-"`
}

var sqsNamespace = QueryProtocol{Namespace: "http://queue.amazonaws.com/doc/2012-11-05/"}

func ptr[T any](v T) *T { return &v }

func TestQueryDecode(t *testing.T) {
	tests := []struct {
		name, form string
		want       any // a pointer to the input expected
	}{
		{"scalars and lists", "Action=ReceiveMessage&Version=2012-11-05&QueueUrl=http%3A%2F%2Fq&AttributeName.1=All&AttributeName.2=SentTimestamp&MessageAttributeName.1=a.b&MaxNumberOfMessages=10&WaitTimeSeconds=0",
			&tReceiveMessageInput{QueueUrl: "http://q", AttributeNames: []string{"All", "SentTimestamp"}, MessageAttributeNames: []string{"a.b"}, MaxNumberOfMessages: ptr[int32](10), WaitTimeSeconds: ptr[int32](0)}},
		{"list order by index, gaps closed", "AttributeName.10=c&AttributeName.2=b&AttributeName.1=a",
			&tReceiveMessageInput{AttributeNames: []string{"a", "b", "c"}}},
		{"empty list as botocore sends it", "QueueUrl=u&AttributeNames=",
			&tReceiveMessageInput{QueueUrl: "u"}},
		{"flat maps", "QueueName=q&Attribute.1.Name=VisibilityTimeout&Attribute.1.Value=30&Attribute.2.Name=DelaySeconds&Attribute.2.Value=&Tag.1.Key=team&Tag.1.Value=a%26b",
			&tCreateQueueInput{QueueName: "q", Attributes: map[string]string{"VisibilityTimeout": "30", "DelaySeconds": ""}, Tags: map[string]string{"team": "a&b"}}},
		{"set attributes", "QueueUrl=u&Attribute.1.Name=Policy&Attribute.1.Value=%7B%7D",
			&tSetQueueAttributesInput{QueueUrl: "u", Attributes: map[string]string{"Policy": "{}"}}},
		{"list of structs with maps of structs", "QueueUrl=u" +
			"&SendMessageBatchRequestEntry.1.Id=a&SendMessageBatchRequestEntry.1.MessageBody=b%0Ac&SendMessageBatchRequestEntry.1.DelaySeconds=5" +
			"&SendMessageBatchRequestEntry.1.MessageAttribute.1.Name=s&SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.StringValue=v&SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.DataType=String" +
			"&SendMessageBatchRequestEntry.1.MessageAttribute.2.Name=bin&SendMessageBatchRequestEntry.1.MessageAttribute.2.Value.BinaryValue=AAEC&SendMessageBatchRequestEntry.1.MessageAttribute.2.Value.DataType=Binary" +
			"&SendMessageBatchRequestEntry.1.MessageAttribute.3.Name=l&SendMessageBatchRequestEntry.1.MessageAttribute.3.Value.StringListValue.1=x&SendMessageBatchRequestEntry.1.MessageAttribute.3.Value.BinaryListValue.1=eQ%3D%3D&SendMessageBatchRequestEntry.1.MessageAttribute.3.Value.DataType=String" +
			"&SendMessageBatchRequestEntry.2.Id=z&SendMessageBatchRequestEntry.2.MessageBody=&SendMessageBatchRequestEntry.2.MessageGroupId=g",
			&tSendMessageBatchInput{QueueUrl: "u", Entries: []tSendMessageBatchRequestEntry{
				{Id: "a", MessageBody: "b\nc", DelaySeconds: ptr[int32](5), MessageAttributes: map[string]tMessageAttributeValue{
					"s":   {StringValue: ptr("v"), DataType: "String"},
					"bin": {BinaryValue: []byte{0, 1, 2}, DataType: "Binary"},
					"l":   {StringListValues: []string{"x"}, BinaryListValues: [][]byte{[]byte("y")}, DataType: "String"},
				}},
				{Id: "z", MessageGroupId: ptr("g")},
			}}},
		{"other kinds, unflattened", "B=TRUE&U=255&F=1.5&When=2023-11-14T22%3A13%3A20.5Z&T=1700000000&Item.member.1=a&Item.member.2=b&Named.n.1=7&Map.entry.1.key=k&Map.entry.1.value=v&Nested.X=x&Skipped=s",
			&tKinds{B: true, U: 255, F: 1.5, When: &Timestamp{time.Date(2023, 11, 14, 22, 13, 20, 5e8, time.UTC)}, T: time.Unix(1700000000, 0), List: []string{"a", "b"}, Named: []int{7}, Map: map[string]string{"k": "v"}, Nested: &struct {
				X string `json:"X"`
			}{"x"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			form, err := url.ParseQuery(tc.form)
			if err != nil {
				t.Fatal(err)
			}
			got := reflect.New(reflect.TypeOf(tc.want).Elem())
			if err := sqsNamespace.Decode(form, got.Interface()); err != nil {
				t.Fatal(err)
			}
			if w, g := tc.want, got.Interface(); !queryEqual(w, g) {
				t.Fatalf("decoded\n%+v\nwant\n%+v", g, w)
			}
		})
	}
}

// queryEqual compares decoded inputs, times by instant.
func queryEqual(a, b any) bool {
	ka, oka := a.(*tKinds)
	kb, okb := b.(*tKinds)
	if !oka || !okb {
		return reflect.DeepEqual(a, b)
	}
	ca, cb := *ka, *kb
	if !ca.T.Equal(cb.T) || (ca.When == nil) != (cb.When == nil) || ca.When != nil && !ca.When.Equal(cb.When.Time) {
		return false
	}
	ca.T, cb.T, ca.When, cb.When = time.Time{}, time.Time{}, nil, nil
	return reflect.DeepEqual(ca, cb)
}

func TestQueryDecodeErrors(t *testing.T) {
	custom := QueryProtocol{Invalid: Error{Status: 400, Type: "com.amazonaws.sqs#InvalidParameterValue", QueryCode: "InvalidParameterValue"}}
	tests := []struct {
		form, param string
		in          any
	}{
		{"MaxNumberOfMessages=ten", "MaxNumberOfMessages", &tReceiveMessageInput{}},
		{"MaxNumberOfMessages=2147483648", "MaxNumberOfMessages", &tReceiveMessageInput{}},
		{"AttributeName.0=a", "AttributeName.0", &tReceiveMessageInput{}},
		{"AttributeName.01=a", "AttributeName.01", &tReceiveMessageInput{}},
		{"AttributeName.x=a", "AttributeName.x", &tReceiveMessageInput{}},
		{"Attribute.1.Value=30", "Attribute.1.Name", &tCreateQueueInput{}},
		{"SendMessageBatchRequestEntry.1.MessageAttribute.1.Name=b&SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.BinaryValue=%21", "SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.BinaryValue", &tSendMessageBatchInput{}},
		{"B=yes", "B", &tKinds{}},
		{"U=-1", "U", &tKinds{}},
		{"When=yesterday", "When", &tKinds{}},
	}
	for _, tc := range tests {
		form, _ := url.ParseQuery(tc.form)
		for _, p := range []*QueryProtocol{{}, &custom} {
			err := p.Decode(form, tc.in)
			var e *Error
			if !errors.As(err, &e) || e.StatusCode() != 400 || e.code() != CodeInvalidParameterValue || !strings.Contains(e.Message, "parameter "+tc.param+" ") {
				t.Errorf("%s: %v, want 400 InvalidParameterValue naming %s", tc.form, err, tc.param)
			}
			if p == &custom && e != nil && e.Type != custom.Invalid.Type {
				t.Errorf("%s: type %s, want the API's %s", tc.form, e.Type, custom.Invalid.Type)
			}
		}
	}
}

func TestQueryTagErrors(t *testing.T) {
	var p QueryProtocol
	for _, in := range []any{
		&struct {
			M map[string]string `query:"M,entry=Name"`
		}{},
		&struct {
			M map[string]string `query:"M,flatten"`
		}{},
		&struct {
			AB string `query:"A.B"`
		}{},
		&struct{ C chan int }{},
		&struct {
			S string `json:"a b"`
		}{},
		&struct {
			M map[string]string `query:"M,entry=K/1V"`
		}{},
		new(string),
	} {
		if err := p.Decode(url.Values{}, in); err == nil {
			t.Errorf("%T: decoded", in)
		}
		if _, err := p.Encode("X", "id", in); err == nil {
			t.Errorf("%T: encoded", in)
		}
	}
}

func TestQueryEncode(t *testing.T) {
	const head = `<?xml version="1.0" encoding="UTF-8"?>` + "\n"
	tests := []struct {
		action string
		out    any
		want   string
	}{
		{"ListQueues", &tListQueuesOutput{QueueUrls: []string{"http://h/1/a", "http://h/1/b"}},
			`<ListQueuesResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><ListQueuesResult><QueueUrl>http://h/1/a</QueueUrl><QueueUrl>http://h/1/b</QueueUrl></ListQueuesResult><ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></ListQueuesResponse>`},
		{"ListQueues", &tListQueuesOutput{},
			`<ListQueuesResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><ListQueuesResult></ListQueuesResult><ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></ListQueuesResponse>`},
		{"DeleteQueue", &struct{}{},
			`<DeleteQueueResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></DeleteQueueResponse>`},
		{"SetQueueAttributes", nil,
			`<SetQueueAttributesResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></SetQueueAttributesResponse>`},
		{"GetQueueAttributes", tGetQueueAttributesOutput{Attributes: map[string]string{"VisibilityTimeout": "30", "DelaySeconds": "0"}},
			`<GetQueueAttributesResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><GetQueueAttributesResult><Attribute><Name>DelaySeconds</Name><Value>0</Value></Attribute><Attribute><Name>VisibilityTimeout</Name><Value>30</Value></Attribute></GetQueueAttributesResult><ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></GetQueueAttributesResponse>`},
		{"ReceiveMessage", &tReceiveMessageOutput{Messages: []tMessage{{MessageId: ptr("m1"), Body: ptr("a<b>&\r\n"), Attributes: map[string]string{"SenderId": "s"},
			MessageAttributes: map[string]tMessageAttributeValue{"n": {StringValue: ptr("v"), DataType: "String"}, "b": {BinaryValue: []byte{0, 1}, DataType: "Binary"}}}}},
			`<ReceiveMessageResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><ReceiveMessageResult><Message><MessageId>m1</MessageId><Body>a&lt;b&gt;&amp;&#xD;&#xA;</Body><Attribute><Name>SenderId</Name><Value>s</Value></Attribute>` +
				`<MessageAttribute><Name>b</Name><Value><BinaryValue>AAE=</BinaryValue><DataType>Binary</DataType></Value></MessageAttribute><MessageAttribute><Name>n</Name><Value><StringValue>v</StringValue><DataType>String</DataType></Value></MessageAttribute></Message></ReceiveMessageResult><ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></ReceiveMessageResponse>`},
		{"SendMessageBatch", &tSendMessageBatchOutput{Successful: []tSendMessageBatchResultEntry{{Id: "a", MessageId: "m", MD5OfMessageBody: "d"}}, Failed: []tBatchResultErrorEntry{{Id: "b", SenderFault: true, Code: "InvalidMessageContents"}}},
			`<SendMessageBatchResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><SendMessageBatchResult><SendMessageBatchResultEntry><Id>a</Id><MessageId>m</MessageId><MD5OfMessageBody>d</MD5OfMessageBody></SendMessageBatchResultEntry>` +
				`<BatchResultErrorEntry><Id>b</Id><SenderFault>true</SenderFault><Code>InvalidMessageContents</Code></BatchResultErrorEntry></SendMessageBatchResult><ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></SendMessageBatchResponse>`},
		{"Pointers", &struct {
			L []*tBatchResultErrorEntry `query:"E,flat"`
			M map[string]*tMessageAttributeValue
		}{L: []*tBatchResultErrorEntry{nil, {Id: "x"}}, M: map[string]*tMessageAttributeValue{"n": nil, "s": {DataType: "String"}}},
			`<PointersResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><PointersResult><E><Id>x</Id><SenderFault>false</SenderFault><Code></Code></E><M><entry><key>n</key></entry><entry><key>s</key><value><DataType>String</DataType></value></entry></M></PointersResult><ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></PointersResponse>`},
		{"Kinds", &tKinds{U: 7, F: 0.25, When: &Timestamp{time.UnixMilli(1700000000123)}, T: time.Unix(0, 0), List: []string{"a"}, Named: []int{1, 2}, Map: map[string]string{"k": "v"}, Skipped: "no"},
			`<KindsResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><KindsResult><B>false</B><U>7</U><F>0.25</F><When>2023-11-14T22:13:20.123Z</When><T>1970-01-01T00:00:00.000Z</T><Item><member>a</member></Item><Named><n>1</n><n>2</n></Named><Map><entry><key>k</key><value>v</value></entry></Map></KindsResult><ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></KindsResponse>`},
	}
	for _, tc := range tests {
		got, err := sqsNamespace.Encode(tc.action, "rid", tc.out)
		if err != nil {
			t.Fatalf("%s: %v", tc.action, err)
		}
		if string(got) != head+tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.action, got, head+tc.want)
		}
	}
}

// TestQueryExchange: one registered operation answers JSON 1.0 and Query
// requests alike, and its errors come back in each request's shape.
func TestQueryExchange(t *testing.T) {
	var reg Registry[*testAPI]
	Register(&reg, "Greet", greet)
	api := &testAPI{greeting: "hello"}
	for _, tc := range []struct{ method, form, want string }{
		{"POST", "Action=Greet&Name=bob", `<GreetResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><GreetResult><Text>hello, bob</Text></GreetResult>`},
		{"GET", "Action=Greet&Name=al", `<GreetResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><GreetResult><Text>hello, al</Text></GreetResult>`},
		{"POST", "Action=Greet", `<ErrorResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><Error><Type>Sender</Type><Code>ValidationException</Code><Message>no name</Message></Error>`},
	} {
		req := httptest.NewRequest(tc.method, "/?"+tc.form, nil)
		if tc.method == "POST" {
			req = httptest.NewRequest(tc.method, "/", strings.NewReader(tc.form))
			req.Header.Set("Content-Type", ContentTypeForm)
		}
		form, ok, _ := QueryForm(req)
		if !ok {
			t.Fatal("not a Query request")
		}
		w := httptest.NewRecorder()
		w.Header().Set(HeaderRequestID, "rid")
		x := &Exchange{W: w, R: req, Op: form.Get("Action"), Query: &sqsNamespace, Form: form}
		if err := reg.Lookup(x.Op)(t.Context(), api, x); err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatal(err)
			}
			x.WriteError(e)
		}
		if body := w.Body.String(); !strings.Contains(body, tc.want) || !strings.Contains(body, "rid</RequestId>") || w.Header().Get("Content-Type") != "text/xml" {
			t.Errorf("%s: %d %s", tc.form, w.Code, body)
		}
	}
	w := serveOp(t, &reg, api, "Greet", `{"Name":"ann"}`, JSON10{})
	if w.Body.String() != `{"Text":"hello, ann"}` {
		t.Errorf("JSON: %s", w.Body)
	}
}
