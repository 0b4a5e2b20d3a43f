package domain

import "testing"

func TestValidateIDNumber(t *testing.T) {
	today := Date{2026, 11, 23}
	valid := "11010519491231002" + string(IDNumberCheckChar("11010519491231002"))
	tests := []struct {
		name   string
		id     string
		reason string
	}{
		{"valid", valid, ""},
		{"published sample with X", "11010519491231002X", ""},
		{"too short", "1101051949123100", "invalid_length"},
		{"letter inside", "1101051949123A002X", "invalid_format"},
		{"wrong check digit", "110105194912310021", "invalid_check_digit"},
		{"February 30", "110105194902300021", "invalid_birth_date"},
		{"born in the future", "110105203001010021", "invalid_birth_date"},
		{"empty", "", "invalid_length"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reason, _, msgZH, ok := ValidateIDNumber(tt.id, today)
			if reason != tt.reason || ok != (tt.reason == "") {
				t.Fatalf("ValidateIDNumber(%q) = %q ok=%v, want %q", tt.id, reason, ok, tt.reason)
			}
			if !ok && msgZH == "" {
				t.Fatal("a rejected number must explain itself in Chinese")
			}
		})
	}
}

// TestMaskIDNumber: the masked form shows the last four characters only;
// neither the region prefix nor any digit of the birth date survives.
func TestMaskIDNumber(t *testing.T) {
	if got := MaskIDNumber("11010519491231002X"); got != "**************002X" {
		t.Fatalf("MaskIDNumber = %q", got)
	}
	if got := MaskIDNumber("123"); got != "***" {
		t.Fatalf("short numbers are masked whole, got %q", got)
	}
}
