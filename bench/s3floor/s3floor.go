// Package s3floor is the least an S3 endpoint can do for `bridge bench
// s3`: buckets that remember their objects' sizes and nothing else. A put
// reads the body and drops it; a get writes that many bytes from one
// shared buffer. It answers the calls the bench makes (CreateBucket,
// PutObject, GetObject, DeleteObjects, DeleteBucket) with path-style
// addressing, and nothing else.
//
// It exists to measure what this machine and the load generator allow:
// `bench s3 --compare-floor` runs it as one more target, and since it
// hashes nothing (no MD5 for the ETag, no check of the payload's SHA-256),
// stores nothing and copies nothing but the socket's bytes, no S3 server is
// faster under that load; an emulator's ratio to it bounds what any server
// can be measured at against that emulator here.
package s3floor

import (
	"encoding/xml"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// Handler serves the floor's buckets. The zero value is ready to use.
type Handler struct {
	mu      sync.Mutex
	buckets map[string]map[string]int64 // bucket -> key -> size

	zerosOnce sync.Once
	zeros     []byte // what a get returns, as often as its size needs
}

const zerosSize = 1 << 20

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if bucket == "" {
		writeError(w, http.StatusNotImplemented, "NotImplemented", "the floor serves path-style bucket requests only")
		return
	}
	switch {
	case key == "" && r.Method == http.MethodPut:
		h.mu.Lock()
		if h.buckets == nil {
			h.buckets = make(map[string]map[string]int64)
		}
		if h.buckets[bucket] == nil {
			h.buckets[bucket] = make(map[string]int64)
		}
		h.mu.Unlock()
	case key == "" && r.Method == http.MethodDelete:
		h.mu.Lock()
		delete(h.buckets, bucket)
		h.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	case key == "" && r.Method == http.MethodPost && r.URL.Query().Has("delete"):
		// DeleteObjects with Quiet: the bench deletes all it put; the
		// answer lists no errors.
		_, _ = io.Copy(io.Discard, r.Body)
		h.mu.Lock()
		clear(h.buckets[bucket])
		h.mu.Unlock()
		w.Header().Set("Content-Type", "application/xml")
		_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></DeleteResult>`)
	case key != "" && r.Method == http.MethodPut:
		n, err := io.Copy(io.Discard, r.Body)
		if err != nil {
			writeError(w, http.StatusBadRequest, "IncompleteBody", err.Error())
			return
		}
		if !h.setSize(bucket, key, n) {
			writeError(w, http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist")
			return
		}
		w.Header().Set("ETag", `"`+strconv.FormatInt(n, 16)+`"`) // not an MD5: the floor hashes nothing
	case key != "" && r.Method == http.MethodGet:
		size, ok := h.size(bucket, key)
		if !ok {
			writeError(w, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
			return
		}
		h.zerosOnce.Do(func() { h.zeros = make([]byte, zerosSize) })
		w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
		w.Header().Set("Content-Type", "application/octet-stream")
		for size > 0 {
			n := min(size, zerosSize)
			if _, err := w.Write(h.zeros[:n]); err != nil {
				return
			}
			size -= n
		}
	default:
		writeError(w, http.StatusNotImplemented, "NotImplemented", r.Method+" "+r.URL.Path+" is not served by the floor")
	}
}

func (h *Handler) setSize(bucket, key string, n int64) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	objects, ok := h.buckets[bucket]
	if ok {
		objects[key] = n
	}
	return ok
}

func (h *Handler) size(bucket, key string) (int64, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	n, ok := h.buckets[bucket][key]
	return n, ok
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>` + code + `</Code><Message>`)
	_ = xml.EscapeText(&b, []byte(message))
	b.WriteString(`</Message></Error>`)
	_, _ = io.WriteString(w, b.String())
}
