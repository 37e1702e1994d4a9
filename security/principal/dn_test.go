package principal

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"testing"
	"time"
)

var (
	oidCN     = asn1.ObjectIdentifier{2, 5, 4, 3}
	oidSerial = asn1.ObjectIdentifier{2, 5, 4, 5}
	oidOU     = asn1.ObjectIdentifier{2, 5, 4, 11}
	oidO      = asn1.ObjectIdentifier{2, 5, 4, 10}
	oidDC     = asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 25}
	oidUID    = asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 1}
	oidEmail  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}
	oidStreet = asn1.ObjectIdentifier{2, 5, 4, 9}
)

// str is an attribute value of the given universal string tag.
func str(tag int, s string) asn1.RawValue {
	return asn1.RawValue{Class: asn1.ClassUniversal, Tag: tag, Bytes: []byte(s)}
}

func utf8s(s string) asn1.RawValue { return str(tagUTF8String, s) }

func av(oid asn1.ObjectIdentifier, v asn1.RawValue) attribute { return attribute{Type: oid, Value: v} }

// name encodes RDNs in the order given (the order in the certificate, the
// reverse of the printed one).
func name(t *testing.T, rdns ...rdnSET) []byte {
	t.Helper()
	if rdns == nil {
		rdns = []rdnSET{}
	}
	der, err := asn1.Marshal(rdns)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// The expected strings are what Java's X500Principal.getName(RFC2253)
// prints for these names (see AVA.toRFC2253String).
func TestNameRFC2253(t *testing.T) {
	for _, tc := range []struct {
		desc string
		rdns []rdnSET
		want string
	}{
		{"empty", nil, ""},
		{
			"reversed order",
			[]rdnSET{{av(oidDC, str(tagIA5String, "com"))}, {av(oidDC, str(tagIA5String, "example"))}, {av(oidUID, utf8s("u1"))}, {av(oidCN, utf8s("alice"))}},
			"CN=alice,UID=u1,DC=example,DC=com",
		},
		{
			"multi-valued RDN in encoded order",
			[]rdnSET{{av(oidO, utf8s("Acme"))}, {av(oidCN, utf8s("bob")), av(oidOU, utf8s("eng"))}},
			"CN=bob+OU=eng,O=Acme",
		},
		{"escapees", []rdnSET{{av(oidCN, utf8s(`a,b+c"d\e<f>g;h=i#j`))}}, `CN=a\,b\+c\"d\\e\<f\>g\;h\=i\#j`},
		{"leading hash", []rdnSET{{av(oidCN, utf8s("#x"))}}, `CN=\#x`},
		{"leading and trailing spaces", []rdnSET{{av(oidCN, utf8s("  x y  "))}}, `CN=\ \ x y\ \ `},
		{"only spaces", []rdnSET{{av(oidCN, utf8s("  "))}}, `CN=\ \ `},
		{"space after an escape", []rdnSET{{av(oidCN, utf8s(" ,"))}}, `CN=\ \,`},
		{"NUL", []rdnSET{{av(oidCN, utf8s("a\x00b"))}}, `CN=a\00b`},
		{"non-ASCII", []rdnSET{{av(oidCN, utf8s("Jürgen Groß"))}}, "CN=Jürgen Groß"},
		{"printable string", []rdnSET{{av(oidOU, str(tagPrintableString, "Ops 1"))}}, "OU=Ops 1"},
		{"street keyword", []rdnSET{{av(oidStreet, utf8s("Main St 1"))}}, "STREET=Main St 1"},
		{"email is an OID with hex", []rdnSET{{av(oidEmail, str(tagIA5String, "a@b"))}}, "1.2.840.113549.1.9.1=#1603614062"},
		{"serial number is an OID with hex", []rdnSET{{av(oidSerial, str(tagPrintableString, "42"))}}, "2.5.4.5=#13023432"},
		{"non-string value of a keyword type", []rdnSET{{av(oidCN, asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagInteger, Bytes: []byte{5}})}}, "CN=#020105"},
		{"UniversalString is printed as hex", []rdnSET{{av(oidCN, str(28, "\x00\x00\x00a"))}}, "CN=#1c0400000061"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			got, err := NameRFC2253(name(t, tc.rdns...))
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestNameRFC2253Errors(t *testing.T) {
	for _, der := range [][]byte{nil, {0x30}, {0x30, 0x00, 0x00}, {0x04, 0x00}} {
		if s, err := NameRFC2253(der); err == nil {
			t.Errorf("NameRFC2253(%x) = %q, want an error", der, s)
		}
	}
}

// A certificate made the ordinary Go way prints as Kafka documents it.
func TestSubjectRFC2253(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject: pkix.Name{
			CommonName: "alice", OrganizationalUnit: []string{"eng"}, Organization: []string{"Acme"},
			Locality: []string{"Berlin"}, Province: []string{"Berlin"}, Country: []string{"DE"},
		},
		NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1e10, 0),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := SubjectRFC2253(cert), "CN=alice,OU=eng,O=Acme,L=Berlin,ST=Berlin,C=DE"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
