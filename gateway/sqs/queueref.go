package sqs

import (
	"net/url"
	"strings"
)

// Queue names and URLs. A queue's URL is http://HOST:PORT/ACCOUNT/NAME:
// HOST:PORT is what the API is configured to print (clients in containers
// need the service's name, not 127.0.0.1), or else the host the request
// came to. Requests may name a queue by that URL, by its path alone, or,
// where AWS takes one, by the bare name; the host of a URL is never
// checked, so a URL printed for another network still works.

// maxQueueNameLength bounds a queue name, ".fifo" included.
const maxQueueNameLength = 80

// fifoSuffix ends the name of every FIFO queue, and of no other.
const fifoSuffix = ".fifo"

// errQueueName is SQS's refusal of a queue name, in the words SQS
// emulators and client libraries quote.
var errQueueName = newError(ErrInvalidParameterValue, "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length")

// checkQueueName reports whether name is a valid queue name and whether it
// names a FIFO queue.
func checkQueueName(name string) (fifo bool, err error) {
	base, fifo := strings.CutSuffix(name, fifoSuffix)
	if len(name) == 0 || len(name) > maxQueueNameLength || base == "" {
		return fifo, errQueueName
	}
	for i := 0; i < len(base); i++ {
		c := base[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return fifo, errQueueName
		}
	}
	return fifo, nil
}

// queueURL returns the URL of queue name of account, under base
// ("http://host:port").
func queueURL(base, account, name string) string {
	return strings.TrimSuffix(base, "/") + "/" + account + "/" + name
}

// queueNameOf returns the queue a QueueUrl value names for account: a full
// URL (any host), a path "/ACCOUNT/NAME", or a bare name. ok is false for
// another account's queue or a value that names none.
func queueNameOf(ref, account string) (name string, ok bool) {
	path := ref
	if strings.Contains(ref, "://") {
		u, err := url.Parse(ref)
		if err != nil {
			return "", false
		}
		path = u.Path
	}
	path = strings.TrimPrefix(path, "/")
	acct, name, hasAccount := strings.Cut(path, "/")
	if !hasAccount {
		name, acct = acct, account
	}
	if acct != account || name == "" || strings.Contains(name, "/") {
		return "", false
	}
	return name, true
}
