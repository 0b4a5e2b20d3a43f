// Package zhtext_test holds checks over the zh-CN text the service shows:
// messages and explanations in the Go code, the console's templates and
// scripts, and the field app.
package zhtext_test

import (
	"go/scanner"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// root is the module root, two levels up from this package.
const root = "../.."

// allowed lists text that is not Chinese prose although a half-width mark
// stands next to a Chinese character, by file (slash path from the module
// root) and the exact string literal or line it occurs in. Each says why it
// is not prose.
var allowed = map[string][]string{
	// Keys looked up in FoldLabel's form, which folds （）， to ()、,: the
	// labels county spreadsheets write, matched whatever their width.
	"domain/vocabulary.go": {"边缘户(边缘易致贫户)", "乡(镇)内务工", "乡(镇)外县内务工", "一般干部(职工)"},
	// Column headings matched after normalizeHeading (FoldLabel again), and
	// the notes it strips from them.
	"internal/importer/columns.go": {"县(市、区)", "县(市,区)", "县(区)", "县(市)", "乡(镇)", "乡镇(街道)", "村(社区)",
		"帮扶责任人(用户名)", "市(州)", "市(州)代码", "县(区)代码", "县(市、区)代码", "乡(镇)代码", "乡镇(街道)代码",
		"村(社区)代码", "贫困村(是/否)", "(必填)", "(选填)", "(可选)", "(必须)"},
	// The separators a cell of several values may use, both widths.
	"internal/importer/rows.go": {"、,，;；/／|｜ \u3000\t\n"},
}

// place is a text with half-width punctuation where Chinese needs full-width.
type place struct {
	file string
	line int
	text string
}

// Chinese prose takes full-width punctuation (，：；（）), the way the
// supervisors and cadres read it everywhere else: a half-width mark beside a
// Chinese character ("2026年:应走访6次,已计入8次") reads as a slip. Numbers
// (1,000), times (08:30) and URLs keep theirs, as they stand between Latin
// letters and digits, which the check does not look at.
func TestChineseTextUsesFullWidthPunctuation(t *testing.T) {
	var found []place
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := filepath.ToSlash(strings.TrimPrefix(path, root+string(filepath.Separator)))
		if d.IsDir() {
			switch d.Name() {
			case ".git", "vendor", "testdata", "node_modules", "docs":
				return filepath.SkipDir
			}
			return nil
		}
		switch {
		case strings.HasSuffix(rel, "_test.go"):
			// Tests quote text as it is, including text they prove refused.
		case strings.HasSuffix(rel, ".go"):
			found = append(found, goStrings(t, path, rel)...)
		case strings.HasSuffix(rel, ".js") && !strings.Contains(rel, "/vendor/"):
			found = append(found, jsStrings(t, path, rel)...)
		case strings.HasSuffix(rel, ".html") && (strings.HasPrefix(rel, "internal/web/") || strings.HasPrefix(rel, "internal/fieldapp/")):
			found = append(found, htmlText(t, path, rel)...)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range found {
		if isAllowed(p) {
			continue
		}
		t.Errorf("%s:%d: half-width punctuation beside Chinese, use ，：；（）: %q", p.file, p.line, p.text)
	}
}

func isAllowed(p place) bool {
	return slices.Contains(allowed[p.file], p.text)
}

// The check itself, on the texts it is meant to catch and to let be.
func TestHalfWidthBesideChinese(t *testing.T) {
	for _, tc := range []struct {
		text string
		bad  bool
	}{
		{"2026年:应走访6次,已计入8次", true},
		{"截止%s(%s)", true},
		{"本期仅%s适用(共%d天,全期%d天%s)", true},
		{"原因; 另见", true},
		{"说明 (见附件)", true},
		{"2026年：应走访6次，已计入8次", false},
		{"截止%s（%s）", false},
		{"月份格式应为 YYYY-MM，例如 2026-03", false},
		{"共1,000元", false},
		{"08:30开始", false},
		{"见 https://example.org/a?b=1", false},
		{"device_time must lie between 1970 and 2100", false},
		{"%s, %s", false},
		{"%s·%s:", true},
		{"the sheet needs the columns 户编号, 调整类型 and 调整原因", false},
		{"  错误 第%d行 %s: %s | row %d %s: %s", true},
	} {
		if got := halfWidthBesideChinese(tc.text); got != tc.bad {
			t.Errorf("halfWidthBesideChinese(%q) = %v, want %v", tc.text, got, tc.bad)
		}
	}
}

// verb matches a fmt verb, a JS template placeholder or a Go template
// action, which stand for a value and say nothing about the punctuation
// beside them: in "截止%s(%s)" the parenthesis follows 止.
var verb = regexp.MustCompile(`%[-+# 0]*(\d+|\*)?(\.(\d+|\*))?[a-zA-Z%]|\$\{[^}]*\}|\{\{.*?\}\}`)

// english matches two English words in a row: a text with them is English
// (a command's help, a message for developers) quoting Chinese terms, and
// takes English punctuation ("the columns 户编号, 调整类型 and 调整原因").
var english = regexp.MustCompile(`[A-Za-z]{2,} +[A-Za-z]{2,}`)

// halfWidthBesideChinese reports whether s has , : ; ( or ) with a Chinese
// character as its nearest neighbour on either side, looking past spaces and
// placeholders.
func halfWidthBesideChinese(s string) bool {
	if english.MatchString(s) {
		return false
	}
	s = verb.ReplaceAllString(s, "\x00")
	rs := []rune(s)
	skip := func(r rune) bool { return r == 0 || r == ' ' }
	for i, r := range rs {
		if !strings.ContainsRune(",:;()", r) {
			continue
		}
		j := i - 1
		for j >= 0 && skip(rs[j]) {
			j--
		}
		if j >= 0 && chinese(rs[j]) {
			return true
		}
		j = i + 1
		for j < len(rs) && skip(rs[j]) {
			j++
		}
		if j < len(rs) && chinese(rs[j]) {
			return true
		}
	}
	return false
}

func chinese(r rune) bool {
	return unicode.Is(unicode.Han, r) ||
		r == '·' || // the middle dot between Chinese names: "规则·2026年"
		r >= 0x3000 && r <= 0x303f || // CJK symbols and punctuation: 。、「」
		r >= 0xff01 && r <= 0xff60 // full-width forms: ，：（）
}

func hasChinese(s string) bool { return strings.IndexFunc(s, chinese) >= 0 }

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// goStrings checks every string literal of a Go file.
func goStrings(t *testing.T, path, rel string) []place {
	src := read(t, path)
	if !utf8.Valid(src) || !hasChinese(string(src)) {
		return nil
	}
	fset := token.NewFileSet()
	file := fset.AddFile(rel, -1, len(src))
	var s scanner.Scanner
	s.Init(file, src, func(pos token.Position, msg string) { t.Errorf("%s: %s", pos, msg) }, 0)
	var found []place
	for {
		pos, tok, lit := s.Scan()
		if tok == token.EOF {
			return found
		}
		if tok != token.STRING {
			continue
		}
		text, err := strconv.Unquote(lit)
		if err != nil {
			t.Fatalf("%s: %v", fset.Position(pos), err)
		}
		if hasChinese(text) && halfWidthBesideChinese(text) {
			found = append(found, place{rel, fset.Position(pos).Line, text})
		}
	}
}

// jsStrings checks every string literal of a script: '…', "…" and `…`
// (whose ${…} are code). Comments are skipped; the scripts have no regular
// expression literal holding a quote.
func jsStrings(t *testing.T, path, rel string) []place {
	src := string(read(t, path))
	if !hasChinese(src) {
		return nil
	}
	var found []place
	line := 1
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case c == '\n':
			line++
		case strings.HasPrefix(src[i:], "//"):
			for i < len(src) && src[i] != '\n' {
				i++
			}
			i--
		case strings.HasPrefix(src[i:], "/*"):
			end := strings.Index(src[i+2:], "*/")
			if end < 0 {
				t.Fatalf("%s:%d: unterminated comment", rel, line)
			}
			line += strings.Count(src[i:i+2+end+2], "\n")
			i += 2 + end + 1
		case c == '\'' || c == '"' || c == '`':
			start, startLine := i, line
			for i++; i < len(src) && src[i] != c; i++ {
				switch src[i] {
				case '\\':
					i++
				case '\n':
					line++
				}
			}
			text := src[start+1 : min(i, len(src))]
			if hasChinese(text) && halfWidthBesideChinese(text) {
				found = append(found, place{rel, startLine, text})
			}
		}
	}
	return found
}

// comment matches an HTML comment, which no one reads on the page.
var comment = regexp.MustCompile(`(?s)<!--.*?-->`)

// htmlText checks each line of a template or page, its actions ({{…}})
// standing for values.
func htmlText(t *testing.T, path, rel string) []place {
	src := comment.ReplaceAllStringFunc(string(read(t, path)), func(c string) string {
		return strings.Repeat("\n", strings.Count(c, "\n"))
	})
	var found []place
	for n, l := range strings.Split(src, "\n") {
		if hasChinese(l) && halfWidthBesideChinese(l) {
			found = append(found, place{rel, n + 1, strings.TrimSpace(l)})
		}
	}
	return found
}
