package domain

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// CheckText records in fe what is wrong with free text s of field: empty
// when min > 0, not UTF-8, control characters, or longer than max
// characters. labelZH names the field in the Chinese message.
func CheckText(fe *FieldErrors, field, labelZH, s string, min, max int) {
	checkText(fe, field, labelZH, s, min, max)
}

// checkText enforces the text rules every free-text field shares: valid UTF-8,
// no NUL or other control characters except tab and newlines, and a length in
// characters (not bytes, so Chinese text is measured as people count it).
func checkText(fe *FieldErrors, field, labelZH, s string, min, max int) {
	if min > 0 && strings.TrimSpace(s) == "" {
		fe.Required(field, labelZH)
		return
	}
	if reason, msg, msgZH, ok := TextProblem(s, max); !ok {
		fe.Add(field, reason, msg, labelZH+msgZH)
	}
}

// TextProblem returns why s is not acceptable text of at most max characters.
func TextProblem(s string, max int) (reason, msg, msgZH string, ok bool) {
	if !utf8.ValidString(s) {
		return "invalid_utf8", "text is not valid UTF-8", "包含无效字符编码", false
	}
	for _, r := range s {
		if r == 0 || (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || r == 0x7f {
			return "control_character", "text contains a NUL or control character", "包含不可见控制字符", false
		}
	}
	if n := utf8.RuneCountInString(s); n > max {
		return "too_long", "text is longer than the limit of " + strconv.Itoa(max) + " characters", "超过" + strconv.Itoa(max) + "个字符的长度限制", false
	}
	return "", "", "", true
}
