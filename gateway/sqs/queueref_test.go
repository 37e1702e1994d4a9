package sqs

import (
	"strings"
	"testing"
)

func TestQueueNames(t *testing.T) {
	for _, tc := range []struct {
		name     string
		ok, fifo bool
	}{
		{"orders", true, false},
		{"Orders_2-b", true, false},
		{"orders.fifo", true, true},
		{"a", true, false},
		{"nul\x00", false, false},
		{"", false, false},
		{".fifo", false, true},
		{"has.dot", false, false},
		{"has space", false, false},
		{"ünicode", false, false},
		{"x.fifo.fifo", false, true},
	} {
		fifo, err := checkQueueName(tc.name)
		if (err == nil) != tc.ok || fifo != tc.fifo {
			t.Errorf("checkQueueName(%q) = fifo %v, %v; want ok %v fifo %v", tc.name, fifo, err, tc.ok, tc.fifo)
		}
	}
	long := strings.Repeat("q", 75)
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{long + "qqqqq", true},   // 80
		{long + "qqqqqq", false}, // 81
		{long + ".fifo", true},   // 80 with the suffix
		{long + "q.fifo", false}, // 81 with the suffix
	} {
		if _, err := checkQueueName(tc.name); (err == nil) != tc.ok {
			t.Errorf("a name of %d characters: %v, want ok %v", len(tc.name), err, tc.ok)
		}
	}
}

func TestQueueURLs(t *testing.T) {
	const acct = "000000000000"
	u := queueURL("http://bridge:4566/", acct, "orders")
	if u != "http://bridge:4566/000000000000/orders" {
		t.Fatalf("queueURL: %s", u)
	}
	for _, tc := range []struct {
		ref, want string
		ok        bool
	}{
		{u, "orders", true},
		{"http://127.0.0.1:9999/000000000000/orders", "orders", true}, // another host
		{"https://sqs.us-east-1.amazonaws.com/000000000000/jobs.fifo", "jobs.fifo", true},
		{"/000000000000/orders", "orders", true},
		{"orders", "orders", true},
		{"http://bridge:4566/111111111111/orders", "", false}, // another account
		{"http://bridge:4566/000000000000/", "", false},
		{"http://bridge:4566/000000000000/a/b", "", false},
		{"", "", false},
		{"http://%zz/000000000000/q", "", false},
	} {
		name, ok := queueNameOf(tc.ref, acct)
		if name != tc.want || ok != tc.ok {
			t.Errorf("queueNameOf(%q) = %q %v, want %q %v", tc.ref, name, ok, tc.want, tc.ok)
		}
	}
}
