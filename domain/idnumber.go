package domain

import (
	"strings"
	"time"
)

// idWeights and idCheck implement the GB 11643-1999 check digit (ISO 7064 MOD 11-2).
var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

const idCheck = "10X98765432"

// NormalizeIDNumber trims spaces and upper-cases a trailing x, which is how
// hand-typed 身份证号 usually differ from the printed ones.
func NormalizeIDNumber(s string) string {
	return strings.ToUpper(strings.TrimSpace(s))
}

// ValidateIDNumber checks an 18-character resident ID number: digits, a real
// birth date not in the future, and the check digit. It returns a reason code
// and zh/en messages when the number is wrong.
func ValidateIDNumber(id string, today Date) (reason, msg, msgZH string, ok bool) {
	if len(id) != 18 {
		return "invalid_length", "ID number must have 18 characters", "身份证号应为18位", false
	}
	sum := 0
	for i := 0; i < 17; i++ {
		c := id[i]
		if c < '0' || c > '9' {
			return "invalid_format", "ID number must be 17 digits and a check character", "身份证号前17位必须是数字", false
		}
		sum += int(c-'0') * idWeights[i]
	}
	birth, err := time.Parse("20060102", id[6:14])
	if err != nil || birth.Year() < 1890 || DateOf(birth.Add(12*time.Hour)).After(today) {
		return "invalid_birth_date", "ID number has an impossible birth date", "身份证号中的出生日期无效", false
	}
	if id[17] != idCheck[sum%11] {
		return "invalid_check_digit", "ID number check digit does not match", "身份证号校验位不正确", false
	}
	return "", "", "", true
}

// IDNumberCheckChar returns the check character for the first 17 digits; demo
// data and tests use it to make valid numbers.
func IDNumberCheckChar(first17 string) byte {
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(first17[i]-'0') * idWeights[i]
	}
	return idCheck[sum%11]
}

// MaskIDNumber keeps only the last four characters, enough for a cadre to
// tell two people apart. The region prefix goes too: with the birth date,
// which the other roles see, it would leave only the four shown
// characters hidden — which is to say nothing hidden.
func MaskIDNumber(id string) string {
	if len(id) < 8 {
		return strings.Repeat("*", len(id))
	}
	return strings.Repeat("*", len(id)-4) + id[len(id)-4:]
}

// BirthDateFromID returns the birth date encoded in a valid ID number.
func BirthDateFromID(id string) (Date, bool) {
	if len(id) != 18 {
		return Date{}, false
	}
	t, err := time.Parse("20060102", id[6:14])
	if err != nil {
		return Date{}, false
	}
	return Date{t.Year(), t.Month(), t.Day()}, true
}

// GenderFromID returns "male" or "female" from the 17th digit.
func GenderFromID(id string) string {
	if len(id) != 18 || id[16] < '0' || id[16] > '9' {
		return ""
	}
	if (id[16]-'0')%2 == 1 {
		return "male"
	}
	return "female"
}
