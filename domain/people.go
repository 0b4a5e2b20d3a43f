package domain

import (
	"regexp"
	"strconv"
	"time"

	"github.com/google/uuid"
)

// Unit is an assisting unit (帮扶单位): a county office, bureau or company
// whose cadres pair with households.
type Unit struct {
	ID        uuid.UUID
	Name      string
	RegionID  uuid.UUID // where the unit sits (its county, usually)
	CreatedAt time.Time
}

// UnitAssignment places a unit in a village, or in one group of it, over a
// date range (the unit-group duty of 002 is judged per assignment).
type UnitAssignment struct {
	ID        uuid.UUID
	UnitID    uuid.UUID
	VillageID uuid.UUID
	GroupID   *uuid.UUID
	CountyID  uuid.UUID
	StartOn   Date
	EndOn     *Date
}

// User is anyone who logs in. Cadres also have a unit, a rank and duties.
type User struct {
	ID          uuid.UUID
	Username    string
	DisplayName string
	Role        string
	RegionID    uuid.UUID
	RegionPath  string // copied from the region so scope checks need no join
	Phone       string
	UnitID      *uuid.UUID
	Rank        string
	Duties      []Duty
	Active      bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Duty is one role a cadre holds over a date range. RegionID is where the
// duty applies: the town of a town head, the village of a resident team.
type Duty struct {
	Kind     string     `json:"kind"`
	RegionID *uuid.UUID `json:"region_id,omitempty"`
	StartOn  Date       `json:"start_on"`
	EndOn    *Date      `json:"end_on,omitempty"`
}

var usernamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{2,39}$`)

// ValidateUser checks a user record (not the password).
func ValidateUser(u User, fe *FieldErrors) {
	if !usernamePattern.MatchString(u.Username) {
		fe.Add("/username", "invalid_format", "username must be 3–40 lowercase letters, digits, '.', '_' or '-'", "用户名应为3至40位小写字母、数字或._-")
	}
	checkText(fe, "/display_name", "姓名", u.DisplayName, 1, 50)
	if !Roles.Has(u.Role) {
		fe.Add("/role", "invalid_enum", "role must be admin, supervisor, inspector or cadre", "角色无效")
	}
	if u.Phone != "" && !ValidPhone(u.Phone) {
		fe.Add("/phone", "invalid_format", "phone must be 7 to 20 digits", "联系电话格式不正确")
	}
	if u.Rank != "" && !Ranks.Has(u.Rank) {
		fe.Add("/rank", "invalid_enum", "rank must be county_level, section_level or staff", "职级无效")
	}
	if u.Role != RoleCadre && (u.Rank != "" || len(u.Duties) > 0 || u.UnitID != nil) {
		fe.Add("/role", "invalid", "only cadres have a unit, rank or duties", "只有帮扶干部可以设置帮扶单位、职级和职责")
	}
	for i, d := range u.Duties {
		p := "/duties/" + strconv.Itoa(i)
		if !Duties.Has(d.Kind) {
			fe.Add(p+"/kind", "invalid_enum", "unknown duty", "职责无效")
		}
		if d.StartOn.IsZero() {
			fe.Required(p+"/start_on", "开始日期")
		}
		if d.EndOn != nil && d.EndOn.Before(d.StartOn) {
			fe.Add(p+"/end_on", "out_of_range", "end date is before start date", "结束日期早于开始日期")
		}
	}
}

// ValidatePassword enforces a minimum that a phone keyboard can still type.
func ValidatePassword(fe *FieldErrors, field, pw string) {
	if n := len([]rune(pw)); n < 10 || n > 128 {
		fe.Add(field, "invalid_length", "password must have 10 to 128 characters", "密码长度应为10至128个字符")
	}
}

// Pairing makes a cadre responsible for a household (结对帮扶) from StartOn
// until EndOn (open when nil). Re-pairing ends one and starts another, so
// history is kept.
type Pairing struct {
	ID          uuid.UUID
	CountyID    uuid.UUID
	HouseholdID uuid.UUID
	CadreID     uuid.UUID
	StartOn     Date
	EndOn       *Date
	EndReason   string
	CreatedBy   uuid.UUID
	CreatedAt   time.Time
}

// PairingRecord is a pairing with its cadre's name and phone, as a
// household's file lists the cadres it has had and its 明白卡 prints whom
// to call.
type PairingRecord struct {
	Pairing
	CadreName  string
	CadrePhone string
}

// InForce reports whether something that runs from start until the day
// before end (open-ended when end is nil) holds on day.
func InForce(start Date, end *Date, day Date) bool {
	return !day.Before(start) && (end == nil || day.Before(*end))
}

// ActiveOn reports whether the duty is in force on day d.
func (d Duty) ActiveOn(day Date) bool { return InForce(d.StartOn, d.EndOn, day) }

// ActiveOn reports whether the pairing holds on day d.
func (p Pairing) ActiveOn(d Date) bool { return InForce(p.StartOn, p.EndOn, d) }

// Device is a phone registered to a user; sync records which device wrote what.
type Device struct {
	ID        uuid.UUID
	UserID    uuid.UUID
	DeviceID  string // the phone's own stable identifier
	Name      string
	FirstSeen time.Time
	LastSeen  time.Time
	RevokedAt *time.Time
}

var deviceIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,100}$`)

// BrowserDevicePrefix starts the device id of every web-console browser
// session: device lists tell browsers, which never sync, from phones.
const BrowserDevicePrefix = "web-"

// ValidDeviceID reports whether s is an acceptable phone identifier.
func ValidDeviceID(s string) bool { return deviceIDPattern.MatchString(s) }
