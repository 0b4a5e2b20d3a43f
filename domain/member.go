package domain

import (
	"time"

	"github.com/google/uuid"
)

// Member is a person in a household (家庭成员).
type Member struct {
	ID            uuid.UUID
	HouseholdID   uuid.UUID
	CountyID      uuid.UUID
	MemberDetails        // IDNumber is the full 身份证号; transports mask it unless the role needs it
	Gender        string // derived from IDNumber when present
	BirthDate     *Date  // derived from IDNumber when present
	Version       int64
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// MemberDetails are the fields people edit.
type MemberDetails struct {
	Name       string
	Relation   string
	IDNumber   string
	Health     string
	Disability string
	Education  string
	Work       string
	Phone      string
}

// Validate checks a member; prefix is the JSON pointer of the member object.
func (m *MemberDetails) Validate(fe *FieldErrors, prefix string, today Date) {
	checkText(fe, prefix+"/name", "姓名", m.Name, 1, 50)
	if !Relations.Has(m.Relation) {
		fe.Add(prefix+"/relation", "invalid_enum", "relation must be one of the listed codes", "与户主关系无效")
	}
	m.IDNumber = NormalizeIDNumber(m.IDNumber)
	if m.IDNumber != "" {
		if reason, msg, msgZH, ok := ValidateIDNumber(m.IDNumber, today); !ok {
			fe.Add(prefix+"/id_number", reason, msg, msgZH)
		}
	}
	checkEnum(fe, prefix+"/health", "健康状况", m.Health, HealthStates)
	checkEnum(fe, prefix+"/disability", "残疾等级", m.Disability, Disabilities)
	checkEnum(fe, prefix+"/education", "文化程度", m.Education, EducationLevels)
	checkEnum(fe, prefix+"/work", "务工状况", m.Work, WorkStates)
	if m.Phone != "" && !ValidPhone(m.Phone) {
		fe.Add(prefix+"/phone", "invalid_format", "phone must be 7 to 20 digits", "联系电话格式不正确")
	}
}

func checkEnum(fe *FieldErrors, field, labelZH, v string, vocab Vocabulary) {
	if v != "" && !vocab.Has(v) {
		fe.Add(field, "invalid_enum", field+" must be one of the listed codes", labelZH+"无效")
	}
}

// Apply copies details into m and derives gender and birth date.
func (m *Member) Apply(d MemberDetails) {
	m.MemberDetails = d
	m.Gender, m.BirthDate = "", nil
	if bd, ok := BirthDateFromID(d.IDNumber); ok {
		m.BirthDate = &bd
		m.Gender = GenderFromID(d.IDNumber)
	}
}
