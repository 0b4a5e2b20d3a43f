package main

import (
	"go/parser"
	"go/token"
	"os"
	"regexp"
	"slices"
	"testing"

	"github.com/fieldvisit/fieldvisit/internal/app"
	"github.com/fieldvisit/fieldvisit/internal/bench"
)

// TestUsageAgreesWithDocs: the top-level usage (app.Commands) names every
// benchmark bench runs, and this command's doc comment and the README's
// command list name exactly the commands of the usage.
func TestUsageAgreesWithDocs(t *testing.T) {
	var names []string
	for _, c := range app.Commands {
		names = append(names, c.Name)
	}
	for _, b := range bench.Subcommands() {
		if !slices.Contains(names, "bench "+b) {
			t.Errorf("bench runs %q, which the usage does not list", b)
		}
	}

	f, err := parser.ParseFile(token.NewFileSet(), "main.go", nil, parser.ParseComments|parser.PackageClauseOnly)
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range []struct{ name, text string }{{"main.go's doc comment", f.Doc.Text()}, {"README.md", string(readme)}} {
		listed := commandLines(doc.text)
		for _, c := range app.Commands {
			if !slices.Contains(listed, c.Name) {
				t.Errorf("%s does not list `fieldvisit %s`", doc.name, c.Name)
			}
		}
		for _, l := range listed {
			if !slices.Contains(names, l) {
				t.Errorf("%s lists `fieldvisit %s`, which the usage does not", doc.name, l)
			}
		}
	}
}

// commandLine is a line of a command list: "fieldvisit NAME [flags] …"
// at its start.
var commandLine = regexp.MustCompile(`(?m)^\s*fieldvisit ([a-z]+(?: [a-z]+)?) \[`)

func commandLines(text string) []string {
	var out []string
	for _, m := range commandLine.FindAllStringSubmatch(text, -1) {
		out = append(out, m[1])
	}
	return out
}
