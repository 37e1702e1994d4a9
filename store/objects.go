package store

import (
	"context"
	"errors"
	"io"
	"time"
)

// Objects is an S3-style object store: buckets holding objects named by
// keys, written and read as streams so an object is never whole in memory.
// The S3-style API on the AWS port serves it, and the front ends keep
// payloads too large for their records in it (an extended-client pointer
// in the record, the object here).
//
// Every write is durable when it returns, like an append: an object whose
// PutObject returned survives kill -9, and one whose PutObject failed or
// never returned is absent, never partial. A put replaces the key's object
// atomically: readers see the old object or the new one.
type Objects interface {
	// CreateBucket makes an empty bucket. ErrBucketExists when the name
	// is taken.
	CreateBucket(ctx context.Context, name string, opts BucketOptions) (Bucket, error)
	// DeleteBucket deletes an empty bucket: ErrBucketNotEmpty while it
	// holds objects or multipart uploads, ErrBucketNotFound when absent.
	DeleteBucket(ctx context.Context, name string) error
	// HeadBucket describes a bucket (ErrBucketNotFound).
	HeadBucket(ctx context.Context, name string) (Bucket, error)
	// ListBuckets returns every bucket, sorted by name.
	ListBuckets(ctx context.Context) ([]Bucket, error)
	// UpdateBucket applies change to a copy of a bucket's settings (tags,
	// Config) and stores the result; the name and creation time stay.
	UpdateBucket(ctx context.Context, name string, change func(*Bucket) error) (Bucket, error)

	// PutObject stores body under key, replacing any object there, once
	// it is read to EOF and durable. The store computes the MD5 (the ETag)
	// and the checksums opts asks for while it reads, and fails with
	// ErrBadDigest, storing nothing, when one differs from what opts says
	// to expect. opts.Size, when not -1, is the exact length body must
	// have (ErrIncompleteBody otherwise). An error reading body is
	// returned (wrapped) and stores nothing: a front end that checks a
	// signature or a hash as the body streams fails the read at EOF to
	// refuse it. Every object operation fails with ErrBucketNotFound when
	// its bucket is absent.
	PutObject(ctx context.Context, bucket, key string, body io.Reader, opts PutOptions) (ObjectInfo, error)
	// GetObject opens an object for reading, from rng when it is not nil
	// (ErrInvalidRange when it starts past the end). The caller closes it.
	GetObject(ctx context.Context, bucket, key string, rng *ByteRange) (ObjectReader, error)
	// HeadObject describes an object (ErrObjectNotFound).
	HeadObject(ctx context.Context, bucket, key string) (ObjectInfo, error)
	// DeleteObject deletes an object; deleting an absent one succeeds, as
	// in S3 (ErrBucketNotFound when the bucket is absent).
	DeleteObject(ctx context.Context, bucket, key string) error
	// CopyObject copies an object, with opts' metadata when opts.Replace
	// is set and the source's otherwise. ErrBucketNotFound does not say
	// which bucket is absent; a caller that must say asks HeadBucket.
	CopyObject(ctx context.Context, srcBucket, srcKey, dstBucket, dstKey string, opts CopyOptions) (ObjectInfo, error)
	// UpdateObject applies change to a copy of an object's tags and
	// stores the result; a change to anything else is refused with
	// ErrInvalidArgument.
	UpdateObject(ctx context.Context, bucket, key string, change func(*ObjectInfo) error) (ObjectInfo, error)
	// ListObjects returns up to opts.Max objects (1000 when 0) whose keys
	// start with opts.Prefix and sort after opts.After, in key order, and
	// whether more follow. Delimiters are the caller's: to skip the rest
	// of a common prefix it lists again with After = prefix + "\xff",
	// which sorts after every UTF-8 key under the prefix (S3 keys are
	// UTF-8; the S3 API refuses others).
	ListObjects(ctx context.Context, bucket string, opts ListOptions) (objects []ObjectInfo, truncated bool, err error)

	// CreateMultipartUpload starts an upload to key; its parts are stored
	// apart until CompleteMultipartUpload makes them one object.
	CreateMultipartUpload(ctx context.Context, bucket, key string, opts PutOptions) (uploadID string, err error)
	// UploadPart stores part number (1-10000) of an upload, replacing a
	// part of that number, durably, as PutObject stores an object
	// (opts.Size and the expected checksums apply to the part).
	UploadPart(ctx context.Context, bucket, key, uploadID string, number int, body io.Reader, opts PutOptions) (PartInfo, error)
	// ListParts lists an upload's parts by number (ErrNoSuchUpload).
	ListParts(ctx context.Context, bucket, key, uploadID string) ([]PartInfo, error)
	// CompleteMultipartUpload makes the listed parts, in order, the
	// object: ErrInvalidPart when one is missing or its ETag differs,
	// ErrInvalidPartOrder when numbers do not ascend, ErrEntityTooSmall
	// when a part but the last is under 5 MiB. The ETag is S3's: the MD5
	// of the parts' MD5s, "-" and the part count.
	CompleteMultipartUpload(ctx context.Context, bucket, key, uploadID string, parts []CompletedPart) (ObjectInfo, error)
	// AbortMultipartUpload deletes an upload and its parts.
	AbortMultipartUpload(ctx context.Context, bucket, key, uploadID string) error
	// ListMultipartUploads lists a bucket's uploads in progress, by key
	// then start time.
	ListMultipartUploads(ctx context.Context, bucket string) ([]Upload, error)
}

// Bucket describes a bucket.
type Bucket struct {
	Name    string
	Created time.Time
	Region  string // the LocationConstraint it was created with; "" is us-east-1
	// Tags are the bucket's tags (PutBucketTagging).
	Tags map[string]string `json:",omitempty"`
	// Config holds settings the front ends own; the store keeps it and
	// does not interpret it.
	Config map[string]string `json:",omitempty"`
}

// BucketOptions are CreateBucket's settings.
type BucketOptions struct {
	Region string
}

// ObjectInfo describes a stored object (or, in a list, one of them).
type ObjectInfo struct {
	Bucket, Key  string
	Size         int64
	ETag         string // quoted, as S3 sends it: "\"<md5 hex>\"" or "\"<hex>-<parts>\""
	LastModified time.Time
	ContentType  string
	// Headers are the other stored headers S3 returns as they were put:
	// Content-Encoding, Content-Disposition, Content-Language,
	// Cache-Control, Expires.
	Headers map[string]string `json:",omitempty"`
	// Metadata is the user metadata (x-amz-meta-*), names lower case.
	Metadata map[string]string `json:",omitempty"`
	Tags     map[string]string `json:",omitempty"`
	// Checksums holds the checksums computed at put, by algorithm
	// (CRC32, CRC32C, CRC64NVME, SHA1, SHA256), base64 as S3 sends them;
	// for a multipart object, the checksum of the parts' checksums with
	// "-N" (S3's composite form).
	Checksums map[string]string `json:",omitempty"`
	// Parts is the part count of a multipart object, 0 otherwise.
	Parts int `json:",omitempty"`
}

// PutOptions are what PutObject, UploadPart and CreateMultipartUpload take
// besides the body.
type PutOptions struct {
	// Size is the body's exact length, or -1 when unknown (read to EOF).
	Size        int64
	ContentType string
	Headers     map[string]string
	Metadata    map[string]string
	Tags        map[string]string
	// Checksums names the algorithms to compute (CRC32, CRC32C,
	// CRC64NVME, SHA1, SHA256); ExpectChecksums the base64 values the
	// body must have, by algorithm (each is computed); ExpectMD5 the
	// base64 MD5 (Content-MD5).
	Checksums       []string
	ExpectChecksums map[string]string
	ExpectMD5       string
	// ETag, when set (hex, unquoted), is the object's ETag and the store
	// computes no MD5: for a caller that has an identity for the body
	// already and writes fast (the offloader). S3's ETags are not MD5s
	// for SSE-KMS or multipart objects either. Ignored with ExpectMD5.
	ETag string
	// Uncached keeps the body out of the operating system's page cache
	// where the store can (the embedded store writes it with O_DIRECT on
	// Linux): for large bodies read at most once, later (offloaded
	// payloads), which the cache would hold for nothing at the cost of a
	// copy and fresh pages. A body read right after it is written (an S3
	// client's get after its put) is served faster cached.
	Uncached bool
}

// CopyOptions are CopyObject's settings.
type CopyOptions struct {
	// Replace takes the metadata below instead of the source's
	// (x-amz-metadata-directive: REPLACE).
	Replace     bool
	ContentType string
	Headers     map[string]string
	Metadata    map[string]string
	// Tags, when not nil, replace the source's tags
	// (x-amz-tagging-directive: REPLACE).
	Tags map[string]string
}

// ByteRange is an HTTP byte range: First to Last inclusive (Last -1: to
// the end, bytes=N-), or, when Suffix > 0, the final Suffix bytes
// (bytes=-N). A range reaching past the end is cut at the end.
type ByteRange struct {
	First, Last int64
	Suffix      int64
}

// ObjectReader reads an object, or the range of it GetObject asked for.
type ObjectReader interface {
	io.ReadCloser
	// Info describes the whole object.
	Info() ObjectInfo
	// Range is the inclusive byte range being read, resolved against the
	// object's size.
	Range() (first, last int64)
}

// ListOptions select the objects ListObjects returns.
type ListOptions struct {
	Prefix string
	After  string // exclusive; "" starts at the first key
	Max    int
}

// PartInfo describes an uploaded part.
type PartInfo struct {
	Number       int
	Size         int64
	ETag         string // quoted MD5 hex
	LastModified time.Time
	Checksums    map[string]string `json:",omitempty"`
}

// CompletedPart names a part in CompleteMultipartUpload.
type CompletedPart struct {
	Number int
	ETag   string // quoted or not
}

// Upload describes a multipart upload in progress.
type Upload struct {
	Key, UploadID string
	Initiated     time.Time
}

// Errors of the object store, matched with errors.Is; front ends answer
// with S3's codes (NoSuchBucket, ...).
var (
	ErrBucketNotFound   = errors.New("bucket not found")
	ErrBucketExists     = errors.New("bucket already exists")
	ErrBucketNotEmpty   = errors.New("bucket not empty")
	ErrObjectNotFound   = errors.New("object not found")
	ErrInvalidRange     = errors.New("range not satisfiable")
	ErrBadDigest        = errors.New("body does not match its checksum")
	ErrIncompleteBody   = errors.New("body shorter or longer than its declared size")
	ErrNoSuchUpload     = errors.New("multipart upload not found")
	ErrInvalidPart      = errors.New("part missing or its ETag differs")
	ErrInvalidPartOrder = errors.New("part numbers do not ascend")
	ErrEntityTooSmall   = errors.New("a part other than the last is under 5 MiB")
)

// MinPartSize is S3's smallest part but the last.
const MinPartSize = 5 << 20
