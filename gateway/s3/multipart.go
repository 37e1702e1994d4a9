package s3

// Multipart uploads: CreateMultipartUpload, UploadPart, UploadPartCopy,
// CompleteMultipartUpload, AbortMultipartUpload, ListParts,
// ListMultipartUploads.

import (
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"

	"github.com/streambridge/bridge/store"
)

type initiateResult struct {
	XMLName  xml.Name `xml:"InitiateMultipartUploadResult"`
	Xmlns    string   `xml:"xmlns,attr"`
	Bucket   string
	Key      string
	UploadID string `xml:"UploadId"`
}

func (h *Handler) createMultipartUpload(x *exchange) error {
	opts, err := putOptions(x)
	if err != nil {
		return err
	}
	if len(opts.ExpectChecksums) > 0 {
		return invalidArgument("A checksum value is not allowed on CreateMultipartUpload.")
	}
	id, err := h.objs.CreateMultipartUpload(x.r.Context(), x.bucket, x.key, opts)
	if err != nil {
		return err
	}
	if len(opts.Checksums) > 0 {
		x.w.Header().Set("x-amz-checksum-algorithm", opts.Checksums[0])
		x.w.Header().Set("x-amz-checksum-type", "COMPOSITE")
	}
	return respondXML(x, initiateResult{Xmlns: xmlns, Bucket: x.bucket, Key: x.key, UploadID: id})
}

// partNumber reads ?partNumber (1-10000).
func partNumber(x *exchange) (int, error) {
	n, err := strconv.Atoi(x.query.Get("partNumber"))
	if err != nil || n < 1 || n > 10000 {
		return 0, invalidArgument("Part number must be an integer between 1 and 10000, inclusive")
	}
	return n, nil
}

func (h *Handler) uploadPart(x *exchange) error {
	n, err := partNumber(x)
	if err != nil {
		return err
	}
	body, opts, err := uploadBody(x)
	if err != nil {
		return err
	}
	p, err := h.objs.UploadPart(x.r.Context(), x.bucket, x.key, x.query.Get("uploadId"), n, body, opts)
	if err != nil {
		return err
	}
	x.w.Header().Set("ETag", p.ETag)
	setChecksumHeaders(x.w.Header(), pick(p.Checksums, opts.Checksums))
	x.w.WriteHeader(http.StatusOK)
	return nil
}

type copyPartResult struct {
	XMLName      xml.Name `xml:"CopyPartResult"`
	Xmlns        string   `xml:"xmlns,attr"`
	ETag         string
	LastModified string
	checksumFields
}

// uploadPartCopy makes a part of an object's bytes (of
// x-amz-copy-source-range, or all), streamed from the store to the store.
func (h *Handler) uploadPartCopy(x *exchange) error {
	n, err := partNumber(x)
	if err != nil {
		return err
	}
	sb, sk, err := copySource(x)
	if err != nil {
		return err
	}
	ctx := x.r.Context()
	if h.cfg.Authorizer != nil {
		if err := h.check(x, "s3:GetObject", objectARN(sb, sk)); err != nil {
			return err
		}
	}
	var rng *store.ByteRange
	if v := x.r.Header.Get("x-amz-copy-source-range"); v != "" {
		if rng, err = parseRange(v); err != nil || rng == nil || rng.Suffix > 0 || rng.Last < 0 {
			return invalidArgument("The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy")
		}
	}
	src, err := h.objs.GetObject(ctx, sb, sk, rng)
	if err != nil {
		return err
	}
	defer src.Close()
	first, last := src.Range()
	p, err := h.objs.UploadPart(ctx, x.bucket, x.key, x.query.Get("uploadId"), n, src, store.PutOptions{Size: last - first + 1})
	if err != nil {
		return err
	}
	return respondXML(x, copyPartResult{Xmlns: xmlns, ETag: p.ETag, LastModified: p.LastModified.UTC().Format(timeFormatXML), checksumFields: checksumFieldsOf(p.Checksums)})
}

type completeRequest struct {
	Parts []struct {
		PartNumber int
		ETag       string
	} `xml:"Part"`
}

type completeResult struct {
	XMLName  xml.Name `xml:"CompleteMultipartUploadResult"`
	Xmlns    string   `xml:"xmlns,attr"`
	Location string
	Bucket   string
	Key      string
	ETag     string
	checksumFields
	ChecksumType string `xml:",omitempty"`
}

func (h *Handler) completeMultipartUpload(x *exchange) error {
	var req completeRequest
	if err := decodeXML(x, &req, false); err != nil {
		return err
	}
	if len(req.Parts) == 0 {
		return s3Err(http.StatusBadRequest, codeMalformedXML, "The XML you provided was not well-formed or did not validate against our published schema")
	}
	parts := make([]store.CompletedPart, len(req.Parts))
	for i, p := range req.Parts {
		parts[i] = store.CompletedPart{Number: p.PartNumber, ETag: p.ETag}
	}
	info, err := h.objs.CompleteMultipartUpload(x.r.Context(), x.bucket, x.key, x.query.Get("uploadId"), parts)
	if err != nil {
		return err
	}
	res := completeResult{Xmlns: xmlns, Location: "/" + x.bucket + "/" + x.key, Bucket: x.bucket, Key: x.key, ETag: info.ETag,
		checksumFields: checksumFieldsOf(info.Checksums)}
	if len(info.Checksums) > 0 {
		res.ChecksumType = "COMPOSITE"
	}
	return respondXML(x, res)
}

func (h *Handler) abortMultipartUpload(x *exchange) error {
	if err := h.objs.AbortMultipartUpload(x.r.Context(), x.bucket, x.key, x.query.Get("uploadId")); err != nil {
		return err
	}
	x.w.WriteHeader(http.StatusNoContent)
	return nil
}

type partEntry struct {
	PartNumber   int
	LastModified string
	ETag         string
	Size         int64
	checksumFields
}

type listPartsResult struct {
	XMLName              xml.Name `xml:"ListPartsResult"`
	Xmlns                string   `xml:"xmlns,attr"`
	Bucket               string
	Key                  string
	UploadID             string `xml:"UploadId"`
	PartNumberMarker     int
	NextPartNumberMarker int
	MaxParts             int
	IsTruncated          bool
	Initiator            owner
	Owner                owner
	StorageClass         string
	Parts                []partEntry `xml:"Part"`
}

// listParts lists an upload's parts after part-number-marker, up to
// max-parts (1000).
func (h *Handler) listParts(x *exchange) error {
	maxParts, marker := 1000, 0
	if v := x.query.Get("max-parts"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return invalidArgument("Provided max-parts not an integer or within integer range")
		}
		maxParts = min(n, 1000)
	}
	if v := x.query.Get("part-number-marker"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return invalidArgument("Provided part-number-marker not an integer or within integer range")
		}
		marker = n
	}
	ps, err := h.objs.ListParts(x.r.Context(), x.bucket, x.key, x.query.Get("uploadId"))
	if err != nil {
		return err
	}
	o := h.owner()
	res := listPartsResult{Xmlns: xmlns, Bucket: x.bucket, Key: x.key, UploadID: x.query.Get("uploadId"), PartNumberMarker: marker,
		MaxParts: maxParts, Initiator: o, Owner: o, StorageClass: "STANDARD"}
	for _, p := range ps {
		if p.Number <= marker {
			continue
		}
		if len(res.Parts) == maxParts {
			res.IsTruncated = true
			break
		}
		res.Parts = append(res.Parts, partEntry{PartNumber: p.Number, LastModified: p.LastModified.UTC().Format(timeFormatXML), ETag: p.ETag, Size: p.Size,
			checksumFields: checksumFieldsOf(p.Checksums)})
		res.NextPartNumberMarker = p.Number
	}
	return respondXML(x, res)
}

type uploadEntry struct {
	Key          string
	UploadID     string `xml:"UploadId"`
	Initiator    owner
	Owner        owner
	StorageClass string
	Initiated    string
}

type listUploadsResult struct {
	XMLName            xml.Name `xml:"ListMultipartUploadsResult"`
	Xmlns              string   `xml:"xmlns,attr"`
	Bucket             string
	KeyMarker          string
	UploadIDMarker     string `xml:"UploadIdMarker"`
	NextKeyMarker      string
	NextUploadIDMarker string `xml:"NextUploadIdMarker"`
	Prefix             string
	MaxUploads         int
	IsTruncated        bool
	Uploads            []uploadEntry `xml:"Upload"`
}

// listMultipartUploads lists the bucket's uploads under prefix, after
// key-marker (and upload-id-marker), up to max-uploads (1000).
func (h *Handler) listMultipartUploads(x *exchange) error {
	q := x.query
	maxUploads := 1000
	if v := q.Get("max-uploads"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return invalidArgument("Provided max-uploads not an integer or within integer range")
		}
		maxUploads = min(n, 1000)
	}
	us, err := h.objs.ListMultipartUploads(x.r.Context(), x.bucket)
	if err != nil {
		return err
	}
	prefix, keyMarker, idMarker := q.Get("prefix"), q.Get("key-marker"), q.Get("upload-id-marker")
	o := h.owner()
	res := listUploadsResult{Xmlns: xmlns, Bucket: x.bucket, KeyMarker: keyMarker, UploadIDMarker: idMarker, Prefix: prefix, MaxUploads: maxUploads}
	pastMarker := keyMarker == ""
	for _, u := range us {
		if !strings.HasPrefix(u.Key, prefix) {
			continue
		}
		if !pastMarker {
			switch {
			case u.Key < keyMarker, u.Key == keyMarker && idMarker == "":
				continue
			case u.Key == keyMarker && u.UploadID != idMarker:
				continue
			case u.Key == keyMarker:
				pastMarker = true // the marker's upload itself: the next one starts
				continue
			}
			pastMarker = true
		}
		if len(res.Uploads) == maxUploads {
			res.IsTruncated = true
			break
		}
		res.Uploads = append(res.Uploads, uploadEntry{Key: u.Key, UploadID: u.UploadID, Initiator: o, Owner: o, StorageClass: "STANDARD",
			Initiated: u.Initiated.UTC().Format(timeFormatXML)})
		res.NextKeyMarker, res.NextUploadIDMarker = u.Key, u.UploadID
	}
	return respondXML(x, res)
}
