package s3

import (
	"fmt"
	"strconv"
	"strings"
)

// objectKey is Confluent's object name: <dir>/<topic>/<encoded>/<topic>+<partition>+<offset, 10 digits><ext>.
func objectKey(dir, topic, encoded string, partition int32, start int64, ext string) string {
	var parts []string
	if dir != "" {
		parts = append(parts, dir)
	}
	parts = append(parts, topic)
	if encoded != "" {
		parts = append(parts, encoded)
	}
	parts = append(parts, fmt.Sprintf("%s+%d+%010d%s", topic, partition, start, ext))
	return strings.Join(parts, "/")
}

// parseObjectName reads the Kafka partition and start offset from a key's
// last segment, when it is an object of topic; ok is false for anything else.
func parseObjectName(key, topic string) (partition int32, start int64, ok bool) {
	name := key[strings.LastIndexByte(key, '/')+1:]
	rest, found := strings.CutPrefix(name, topic+"+")
	if !found {
		return 0, 0, false
	}
	p, rest, found := strings.Cut(rest, "+")
	if !found {
		return 0, 0, false
	}
	digits := rest
	if i := strings.IndexByte(rest, '.'); i >= 0 {
		digits = rest[:i]
	}
	if p == "" || digits == "" || strings.HasPrefix(p, "+") || strings.HasPrefix(p, "-") || strings.HasPrefix(digits, "+") || strings.HasPrefix(digits, "-") {
		return 0, 0, false
	}
	pn, err := strconv.ParseInt(p, 10, 32)
	if err != nil {
		return 0, 0, false
	}
	off, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return 0, 0, false
	}
	return int32(pn), off, true
}

// topicPrefix is what every object key of topic starts with.
func topicPrefix(dir, topic string) string {
	if dir == "" {
		return topic + "/"
	}
	return dir + "/" + topic + "/"
}
