package s3

// Buckets: ListBuckets, CreateBucket, DeleteBucket, HeadBucket,
// GetBucketLocation; and tagging, of buckets and of objects.

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"net"
	"net/http"
	"strings"

	"github.com/streambridge/bridge/store"
)

type owner struct {
	ID          string
	DisplayName string
}

// owner is the one owner of every bucket: the account, as a canonical
// user id (S3's are 64 hex digits).
func (h *Handler) owner() owner {
	sum := sha256.Sum256([]byte(h.cfg.Account))
	return owner{ID: hex.EncodeToString(sum[:]), DisplayName: h.cfg.Account}
}

type listBucketsResult struct {
	XMLName xml.Name `xml:"ListAllMyBucketsResult"`
	Xmlns   string   `xml:"xmlns,attr"`
	Owner   owner
	Buckets []bucketEntry `xml:"Buckets>Bucket"`
}

type bucketEntry struct {
	Name         string
	CreationDate string
	BucketRegion string
}

func (h *Handler) listBuckets(x *exchange) error {
	bs, err := h.objs.ListBuckets(x.r.Context())
	if err != nil {
		return err
	}
	res := listBucketsResult{Xmlns: xmlns, Owner: h.owner(), Buckets: []bucketEntry{}}
	for _, b := range bs {
		res.Buckets = append(res.Buckets, bucketEntry{Name: b.Name, CreationDate: b.Created.UTC().Format(timeFormatXML), BucketRegion: h.regionOf(b)})
	}
	return respondXML(x, res)
}

func (h *Handler) regionOf(b store.Bucket) string {
	if b.Region == "" {
		return "us-east-1"
	}
	return b.Region
}

// validBucketName applies S3's naming rules for general purpose buckets.
func validBucketName(n string) bool {
	if len(n) < 3 || len(n) > 63 || strings.Contains(n, "..") || net.ParseIP(n) != nil {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	alnum := func(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }
	if !alnum(n[0]) || !alnum(n[len(n)-1]) || strings.Contains(n, ".-") || strings.Contains(n, "-.") {
		return false
	}
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(n, p) {
			return false
		}
	}
	for _, s := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"} {
		if strings.HasSuffix(n, s) {
			return false
		}
	}
	return true
}

type createBucketConfiguration struct {
	LocationConstraint string
}

// createBucket makes a bucket in the LocationConstraint's region (the
// AWS port's when there is none). Re-creating one's own bucket is
// BucketAlreadyOwnedByYou, except in us-east-1, where S3 answers 200.
func (h *Handler) createBucket(x *exchange) error {
	if !validBucketName(x.bucket) {
		return s3Err(http.StatusBadRequest, codeInvalidBucketName, "The specified bucket is not valid.")
	}
	var cfg createBucketConfiguration
	if err := decodeXML(x, &cfg, true); err != nil {
		return err
	}
	region := cfg.LocationConstraint
	if region == "" && h.cfg.Region != "us-east-1" {
		region = h.cfg.Region
	}
	if region == "us-east-1" {
		region = ""
	}
	_, err := h.objs.CreateBucket(x.r.Context(), x.bucket, store.BucketOptions{Region: region})
	if errors.Is(err, store.ErrBucketExists) && h.cfg.Region == "us-east-1" && region == "" {
		err = nil
	}
	if err != nil {
		return err
	}
	x.w.Header().Set("Location", "/"+x.bucket)
	x.w.WriteHeader(http.StatusOK)
	return nil
}

func (h *Handler) deleteBucket(x *exchange) error {
	if err := h.objs.DeleteBucket(x.r.Context(), x.bucket); err != nil {
		return err
	}
	x.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) headBucket(x *exchange) error {
	b, err := h.objs.HeadBucket(x.r.Context(), x.bucket)
	if err != nil {
		return err
	}
	x.w.Header().Set("x-amz-bucket-region", h.regionOf(b))
	x.w.WriteHeader(http.StatusOK)
	return nil
}

type locationConstraint struct {
	XMLName xml.Name `xml:"LocationConstraint"`
	Xmlns   string   `xml:"xmlns,attr"`
	Region  string   `xml:",chardata"`
}

// getBucketLocation answers the bucket's LocationConstraint: empty for
// us-east-1, as S3 does.
func (h *Handler) getBucketLocation(x *exchange) error {
	b, err := h.objs.HeadBucket(x.r.Context(), x.bucket)
	if err != nil {
		return err
	}
	return respondXML(x, locationConstraint{Xmlns: xmlns, Region: b.Region})
}

type tagging struct {
	XMLName xml.Name `xml:"Tagging"`
	Xmlns   string   `xml:"xmlns,attr,omitempty"`
	TagSet  []tag    `xml:"TagSet>Tag"`
}

type tag struct {
	Key, Value string
}

func tagSet(tags map[string]string) tagging {
	t := tagging{Xmlns: xmlns, TagSet: []tag{}}
	for k, v := range tags {
		t.TagSet = append(t.TagSet, tag{k, v})
	}
	return t
}

// readTagging decodes a Tagging document into a tag map, under S3's
// limits (max tags; no key twice).
func readTagging(x *exchange, max int) (map[string]string, error) {
	var t tagging
	if err := decodeXML(x, &t, false); err != nil {
		return nil, err
	}
	tags := make(map[string]string, len(t.TagSet))
	for _, tg := range t.TagSet {
		if _, dup := tags[tg.Key]; dup {
			return nil, s3Err(http.StatusBadRequest, codeInvalidTag, "Cannot provide multiple Tags with the same key")
		}
		tags[tg.Key] = tg.Value
	}
	return tags, checkTags(tags, max)
}

func (h *Handler) putBucketTagging(x *exchange) error {
	tags, err := readTagging(x, 50)
	if err != nil {
		return err
	}
	if _, err := h.objs.UpdateBucket(x.r.Context(), x.bucket, func(b *store.Bucket) error { b.Tags = tags; return nil }); err != nil {
		return err
	}
	x.w.WriteHeader(http.StatusNoContent)
	return nil
}

// getBucketTagging answers NoSuchTagSet for a bucket without tags, as S3
// does.
func (h *Handler) getBucketTagging(x *exchange) error {
	b, err := h.objs.HeadBucket(x.r.Context(), x.bucket)
	if err != nil {
		return err
	}
	if len(b.Tags) == 0 {
		return s3Err(http.StatusNotFound, codeNoSuchTagSet, "The TagSet does not exist")
	}
	return respondXML(x, tagSet(b.Tags))
}

func (h *Handler) deleteBucketTagging(x *exchange) error {
	if _, err := h.objs.UpdateBucket(x.r.Context(), x.bucket, func(b *store.Bucket) error { b.Tags = nil; return nil }); err != nil {
		return err
	}
	x.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) putObjectTagging(x *exchange) error {
	tags, err := readTagging(x, 10)
	if err != nil {
		return err
	}
	return h.setObjectTags(x, tags, http.StatusOK)
}

func (h *Handler) deleteObjectTagging(x *exchange) error {
	return h.setObjectTags(x, nil, http.StatusNoContent)
}

func (h *Handler) setObjectTags(x *exchange, tags map[string]string, status int) error {
	if _, err := h.objs.UpdateObject(x.r.Context(), x.bucket, x.key, func(o *store.ObjectInfo) error { o.Tags = tags; return nil }); err != nil {
		return err
	}
	x.w.WriteHeader(status)
	return nil
}

func (h *Handler) getObjectTagging(x *exchange) error {
	info, err := h.objs.HeadObject(x.r.Context(), x.bucket, x.key)
	if err != nil {
		return err
	}
	return respondXML(x, tagSet(info.Tags))
}
