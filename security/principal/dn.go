// Package principal turns a TLS client certificate into the principal name
// Kafka would give it, so that ACLs, quotas and logs written for a Kafka
// cluster name the same users here: the subject as Java prints it
// (SubjectRFC2253), then Kafka's ssl.principal.mapping.rules (ParseRules,
// Rules.Map).
package principal

import (
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode/utf8"
)

// attribute is one AttributeTypeAndValue with its value kept as encoded:
// pkix.AttributeTypeAndValue decodes the value to a Go string and loses its
// ASN.1 type and bytes, which Java's output depends on (a value that is not
// a string is printed as #hex of its DER encoding).
type attribute struct {
	Type  asn1.ObjectIdentifier
	Value asn1.RawValue
}

// rdnSET is one RelativeDistinguishedName; encoding/asn1 reads a slice type
// whose name ends in SET as an ASN.1 SET.
type rdnSET []attribute

// rfc2253Keywords are the attribute types Java's X500Principal.RFC2253 names
// by keyword (RFC 2253's own list plus DC and UID); every other type is
// printed as its dotted OID with a #hex value.
var rfc2253Keywords = map[string]string{
	"2.5.4.3":                    "CN",
	"2.5.4.6":                    "C",
	"2.5.4.7":                    "L",
	"2.5.4.8":                    "ST",
	"2.5.4.10":                   "O",
	"2.5.4.11":                   "OU",
	"2.5.4.9":                    "STREET",
	"0.9.2342.19200300.100.1.25": "DC",
	"0.9.2342.19200300.100.1.1":  "UID",
}

// ASN.1 universal tags of the string types Java prints as text
// (AVA.isDerString with canonical false).
const (
	tagUTF8String      = 12
	tagPrintableString = 19
	tagT61String       = 20
	tagIA5String       = 22
	tagGeneralString   = 27
	tagBMPString       = 30
)

// rfc2253Escapees are the characters Java escapes with a backslash wherever
// they occur in a value (a superset of RFC 2253's list: = and # are escaped
// everywhere, not only where RFC 2253 requires it).
const rfc2253Escapees = ",=+<>#;\"\\"

// SubjectRFC2253 returns the certificate's subject as Java's
// X500Principal.getName(X500Principal.RFC2253) does, which is the name
// Kafka's SSL principal builder starts from: the RDNs from last to first
// as encoded, the values of a multi-valued RDN joined by + in their
// encoded order, keywords for the types above, dotted OIDs with #hex DER
// values for the others, and Java's escaping. It reads cert.RawSubject
// itself, since pkix.Name has already lost the order and grouping.
func SubjectRFC2253(cert *x509.Certificate) string {
	s, err := NameRFC2253(cert.RawSubject)
	if err != nil {
		// crypto/x509 has already parsed RawSubject to build Subject; a
		// failure here would be a bug in this package, not bad input.
		return cert.Subject.String()
	}
	return s
}

// NameRFC2253 is SubjectRFC2253 for a DER-encoded Name (an RDNSequence).
func NameRFC2253(der []byte) (string, error) {
	var seq []rdnSET
	rest, err := asn1.Unmarshal(der, &seq)
	if err != nil {
		return "", fmt.Errorf("principal: name: %w", err)
	}
	if len(rest) > 0 {
		return "", fmt.Errorf("principal: name: %d bytes after the sequence", len(rest))
	}
	var b strings.Builder
	for i := len(seq) - 1; i >= 0; i-- {
		if i < len(seq)-1 {
			b.WriteByte(',')
		}
		for j, a := range seq[i] {
			if j > 0 {
				b.WriteByte('+')
			}
			writeAttribute(&b, a)
		}
	}
	return b.String(), nil
}

func writeAttribute(b *strings.Builder, a attribute) {
	keyword, known := rfc2253Keywords[a.Type.String()]
	if !known {
		keyword = a.Type.String()
	}
	b.WriteString(keyword)
	b.WriteByte('=')
	v := a.Value
	isString := v.Class == asn1.ClassUniversal && !v.IsCompound
	switch v.Tag {
	case tagUTF8String, tagPrintableString, tagT61String, tagIA5String, tagGeneralString, tagBMPString:
	default:
		isString = false
	}
	if !known || !isString {
		b.WriteByte('#')
		b.WriteString(hex.EncodeToString(v.FullBytes))
		return
	}
	writeValue(b, javaUTF8(v.Bytes))
}

// javaUTF8 decodes the value's bytes as UTF-8 whatever the string type, as
// Java's AVA does (T61String and BMPString included), with U+FFFD for
// malformed bytes. Java folds a truncated multi-byte sequence into a single
// U+FFFD where this gives one per byte; such names do not occur in
// certificates anyone maps to principals.
func javaUTF8(p []byte) []rune {
	var rs []rune
	for len(p) > 0 {
		r, n := utf8.DecodeRune(p)
		rs = append(rs, r)
		p = p[n:]
	}
	return rs
}

// writeValue escapes as Java's AVA.toRFC2253String: a backslash before each
// escapee, \00 for NUL, and a backslash before each leading or trailing
// space or carriage return. Java works on UTF-16 code units, but every
// character it treats specially is ASCII, so runes give the same text.
func writeValue(b *strings.Builder, rs []rune) {
	var esc []string
	for _, r := range rs {
		switch {
		case strings.ContainsRune(rfc2253Escapees, r):
			esc = append(esc, `\`+string(r))
		case r == 0:
			esc = append(esc, `\00`)
		default:
			esc = append(esc, string(r))
		}
	}
	blank := func(s string) bool { return s == " " || s == "\r" }
	lead := 0
	for lead < len(esc) && blank(esc[lead]) {
		lead++
	}
	trail := len(esc) - 1
	for trail >= 0 && blank(esc[trail]) {
		trail--
	}
	for i, s := range esc {
		if i < lead || i > trail {
			b.WriteByte('\\')
		}
		b.WriteString(s)
	}
}
