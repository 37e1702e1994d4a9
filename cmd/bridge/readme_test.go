package main

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// readmeSection returns the lines of README.md under heading (a whole
// line, e.g. "## `bridge serve`") up to the next heading of any level.
// Lines in code blocks never count as headings.
func readmeSection(t *testing.T, heading string) []string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var section []string
	in, fenced := false, false
	for line := range strings.Lines(string(b)) {
		line = strings.TrimRight(line, "\n")
		if strings.HasPrefix(line, "```") {
			fenced = !fenced
		}
		if !fenced && strings.HasPrefix(line, "#") {
			if in {
				break
			}
			in = line == heading
			continue
		}
		if in {
			section = append(section, line)
		}
	}
	if section == nil {
		t.Fatalf("README.md has no section %q", heading)
	}
	return section
}

// flagRow is a row of a README flag table: | flag | environment | default | meaning |.
type flagRow struct{ flag, env, def string }

// flagTables returns the flag tables of a README section by the bold line
// (**Heading**) above each, in order.
func flagTables(t *testing.T, section []string) (headings []string, rows map[string][]flagRow) {
	t.Helper()
	rows = map[string][]flagRow{}
	heading := ""
	inTable := false
	for _, line := range section {
		if h, ok := strings.CutPrefix(line, "**"); ok && strings.HasSuffix(h, "**") {
			heading = strings.TrimSuffix(h, "**")
			continue
		}
		if strings.HasPrefix(line, "| flag |") {
			if slices.Contains(headings, heading) {
				t.Errorf("README: two flag tables under **%s**", heading)
			}
			headings = append(headings, heading)
			inTable = true
			continue
		}
		if !inTable || strings.HasPrefix(line, "|---") {
			continue
		}
		if !strings.HasPrefix(line, "|") {
			inTable = false
			continue
		}
		cells := strings.Split(line, "|")
		if len(cells) < 5 {
			t.Errorf("README: short flag table row %q", line)
			continue
		}
		rows[heading] = append(rows[heading], flagRow{
			flag: strings.TrimSpace(cells[1]), env: strings.TrimSpace(cells[2]), def: strings.TrimSpace(cells[3]),
		})
	}
	return headings, rows
}

// TestREADMEServeFlags holds README.md's `bridge serve` tables to the
// binary: the same flags under --help's headings and in its order, each
// with its environment variable, and its default where the table quotes one
// (a word such as "none" or "derived" stands for an empty default).
func TestREADMEServeFlags(t *testing.T) {
	cmd := newServeCmd(noEnv, nil)
	headings, rows := flagTables(t, readmeSection(t, "## `bridge serve`"))
	var want []string
	for _, s := range flagSections(cmd.Flags(), (&serveOptions{}).groups()) {
		if !s.HasFlags() {
			continue
		}
		want = append(want, s.Name())
		var names, listed []string
		s.VisitAll(func(f *pflag.Flag) { names = append(names, "`--"+f.Name+"`") })
		for _, r := range rows[s.Name()] {
			listed = append(listed, r.flag)
			f := s.Lookup(strings.TrimPrefix(strings.Trim(r.flag, "`"), "--"))
			if f == nil {
				continue // reported with the list below
			}
			if wantEnv := "`" + envName(f.Name) + "`"; r.env != wantEnv {
				t.Errorf("README %s: environment %s, want %s", r.flag, r.env, wantEnv)
			}
			if def, quoted := strings.CutPrefix(r.def, "`"); quoted && strings.TrimSuffix(def, "`") != f.DefValue ||
				!quoted && f.DefValue != "" {
				t.Errorf("README %s: default %s, want `%s`", r.flag, r.def, f.DefValue)
			}
		}
		if !slices.Equal(listed, names) {
			t.Errorf("README table **%s** lists\n  %v\nbridge serve --help has\n  %v", s.Name(), listed, names)
		}
	}
	if !slices.Equal(headings, want) {
		t.Errorf("README flag tables are under %q; bridge serve --help has sections %q", headings, want)
	}
}

// TestREADMEBenchFlags checks that every flag the README's bench sections
// mention exists: they describe their flags in prose rather than tables.
func TestREADMEBenchFlags(t *testing.T) {
	mention := regexp.MustCompile("--[a-z][a-z0-9-]*")
	for _, name := range []string{"kafka", "kinesis", "sqs"} {
		var cmd *cobra.Command
		for _, c := range newBenchCmd().Commands() {
			if c.Name() == name {
				cmd = c
			}
		}
		if cmd == nil {
			t.Fatalf("bridge bench has no %s command", name)
		}
		section := strings.Join(readmeSection(t, "### `bridge bench "+name+"`"), "\n")
		for _, m := range mention.FindAllString(section, -1) {
			if cmd.Flags().Lookup(m[2:]) == nil {
				t.Errorf("README's bridge bench %s section mentions %s, which bridge bench %s does not have", name, m, name)
			}
		}
	}
}
