package awscreds

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		want    []Credential
		wantErr string // substring; empty means success
	}{
		{
			name: "two sections, comments, other keys",
			file: "# bridge keys\n[default]\naws_access_key_id = AKIDONE\naws_secret_access_key=secret/one+x\nregion = eu-west-1\n\n; temp\n[ci]\n  AWS_ACCESS_KEY_ID = ASIATWO  \naws_secret_access_key = two\naws_session_token = tok=en==\n",
			want: []Credential{
				{AccessKeyID: "AKIDONE", SecretAccessKey: "secret/one+x", Name: "default"},
				{AccessKeyID: "ASIATWO", SecretAccessKey: "two", SessionToken: "tok=en==", Name: "ci"},
			},
		},
		{
			name: "section of tool settings only is skipped",
			file: "[tools]\nregion = us-east-1\ns3 =\n  max_concurrent_requests = 10\n[k]\naws_access_key_id=A\naws_secret_access_key=S\n",
			want: []Credential{{AccessKeyID: "A", SecretAccessKey: "S", Name: "k"}},
		},
		{name: "BOM and CRLF", file: "\uFEFF[a]\r\naws_access_key_id=A\r\naws_secret_access_key=S\r\n", want: []Credential{{AccessKeyID: "A", SecretAccessKey: "S", Name: "a"}}},
		{name: "key before section", file: "aws_access_key_id=A\n", wantErr: "1: key before the first [section]"},
		{name: "no equals", file: "[a]\nAKIDSECRETPASTEDALONE\n", wantErr: "2: want key = value"},
		{name: "secret not quoted whole", file: "[a]\nAKIDSECRETPASTEDALONE\n", wantErr: `"AKIDSECRETPA..."`},
		{name: "bad header", file: "[a\n", wantErr: "1: bad section header"},
		{name: "empty header", file: "[ ]\n", wantErr: "1: bad section header"},
		{name: "duplicate section", file: "[a]\n[a]\n", wantErr: "2: section [a] again (first on line 1)"},
		{name: "missing secret", file: "[a]\naws_access_key_id=A\n[b]\n", wantErr: "1: section [a] needs both"},
		{name: "missing key id at end", file: "[a]\naws_secret_access_key=S\n", wantErr: "1: section [a] needs both"},
		{name: "empty value", file: "[a]\naws_access_key_id =\n", wantErr: "2: aws_access_key_id is empty"},
		{name: "key twice", file: "[a]\naws_access_key_id=A\naws_access_key_id=B\n", wantErr: "3: aws_access_key_id given twice in [a]"},
		{name: "our key continued", file: "[a]\naws_session_token=x\n  y\n", wantErr: "3: want key = value"},
		{name: "indented key before section", file: "  x=1\n", wantErr: "1: key before the first [section]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.file))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("credential %d: got %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, path, wantErr string
	}{
		{"good", write("good", "[a]\naws_access_key_id=A\naws_secret_access_key=S\n[b]\naws_access_key_id=B\naws_secret_access_key=T\naws_session_token=X\n"), ""},
		{"missing file", filepath.Join(dir, "nope"), "no such file"},
		{"line error names file and line", write("bad", "[a]\nfoo\n"), "bad:2: want key = value"},
		{"no credentials", write("empty", "# nothing\n[tools]\nregion=x\n"), "no credentials"},
		{"same key id twice", write("dup", "[a]\naws_access_key_id=A\naws_secret_access_key=S\n[b]\naws_access_key_id=A\naws_secret_access_key=T\n"), "access key id A is in both [a] and [b]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Load(tt.path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.Len() != 2 {
				t.Errorf("Len %d, want 2", s.Len())
			}
			if c, ok := s.Lookup("B"); !ok || c.SecretAccessKey != "T" || c.SessionToken != "X" || c.Name != "b" {
				t.Errorf("Lookup(B) = %+v, %v", c, ok)
			}
			if _, ok := s.Lookup("Z"); ok {
				t.Error("Lookup(Z) found a credential")
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("[a]\naws_access_key_id=A\naws_secret_access_key=S\n"))
	f.Add([]byte("# c\n;c\n[x]\n  y\n[z]\nk=v\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		creds, err := Parse(b)
		if err != nil {
			return
		}
		for _, c := range creds {
			if c.AccessKeyID == "" || c.SecretAccessKey == "" || c.Name == "" {
				t.Fatalf("incomplete credential %+v", c)
			}
		}
	})
}
