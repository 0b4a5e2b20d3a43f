package domain

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/google/uuid"
)

// GeoPoint is a WGS-84 position, as phones report it.
type GeoPoint struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

// ValidateGeoPoint checks ranges; field is the JSON pointer of the point.
func ValidateGeoPoint(fe *FieldErrors, field string, p GeoPoint) {
	if math.IsNaN(p.Lat) || p.Lat < -90 || p.Lat > 90 {
		fe.Add(field+"/lat", "out_of_range", "latitude must be between -90 and 90", "纬度应在-90到90之间")
	}
	if math.IsNaN(p.Lon) || p.Lon < -180 || p.Lon > 180 {
		fe.Add(field+"/lon", "out_of_range", "longitude must be between -180 and 180", "经度应在-180到180之间")
	}
}

// Household is a registered household's file (一户一档). PovertyType and
// Status are separate: a wubao household that exits stays wubao.
type Household struct {
	ID        uuid.UUID
	CountyID  uuid.UUID // distribution key for sharding by county
	RegionID  uuid.UUID // village or village group
	VillageID uuid.UUID
	HouseholdDetails
	PovertyType    string // "" for households that were never registered
	Status         string
	ExitYear       *int
	RegisteredYear *int
	// DeclaredSize is 家庭人口 as a one-row-per-household register declares
	// it; nil when the members themselves were imported (they are the size).
	DeclaredSize *int
	Version      int64
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// HouseholdDetails are the household-file fields people edit; status and
// poverty type change only through their own dated records.
type HouseholdDetails struct {
	Number             string
	HeadName           string
	Address            string
	Phone              string
	Home               *GeoPoint
	HousingStructure   string
	HousingSafetyGrade string
	HousingArea        *float64
	ArableLand         *float64
	AnnualIncome       *float64
	IncomeNotes        string
	Causes             []string
}

// Validate checks the editable fields of a household file.
func (d HouseholdDetails) Validate(fe *FieldErrors) {
	checkText(fe, "/head_name", "户主姓名", d.HeadName, 1, 50)
	checkText(fe, "/number", "户编号", d.Number, 0, 40)
	checkText(fe, "/address", "住址", d.Address, 0, 200)
	checkText(fe, "/income_notes", "经济状况", d.IncomeNotes, 0, 2000)
	if d.Phone != "" && !ValidPhone(d.Phone) {
		fe.Add("/phone", "invalid_format", "phone must be 7 to 20 digits, optionally with +, - or spaces", "联系电话格式不正确")
	}
	if d.Home != nil {
		ValidateGeoPoint(fe, "/home", *d.Home)
	}
	if d.HousingStructure != "" && !HousingStructures.Has(d.HousingStructure) {
		fe.Add("/housing_structure", "invalid_enum", "unknown housing structure", "住房结构无效")
	}
	if d.HousingSafetyGrade != "" && !HousingSafetyGrades.Has(d.HousingSafetyGrade) {
		fe.Add("/housing_safety_grade", "invalid_enum", "housing safety grade must be A, B, C or D", "住房安全等级应为A、B、C或D")
	}
	checkNonNegative(fe, "/housing_area", "住房面积", d.HousingArea, 100000)
	checkNonNegative(fe, "/arable_land", "耕地面积", d.ArableLand, 100000)
	checkNonNegative(fe, "/annual_income", "家庭年纯收入", d.AnnualIncome, 1e9)
	seen := map[string]bool{}
	for i, c := range d.Causes {
		if !Causes.Has(c) {
			fe.Add("/causes/"+strconv.Itoa(i), "invalid_enum", "unknown cause of poverty", "致贫原因无效")
		}
		if seen[c] {
			fe.Add("/causes/"+strconv.Itoa(i), "duplicate", "cause listed twice", "致贫原因重复")
		}
		seen[c] = true
	}
}

func checkNonNegative(fe *FieldErrors, field, labelZH string, v *float64, max float64) {
	if v == nil {
		return
	}
	if math.IsNaN(*v) || *v < 0 || *v > max {
		fe.Add(field, "out_of_range", field[1:]+" must be between 0 and the limit", labelZH+"数值超出范围")
	}
}

// ValidPhone accepts 7–20 digits with an optional leading +, dashes and
// spaces: mobile and landline numbers as people write them.
func ValidPhone(s string) bool {
	digits := 0
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' && i == 0, r == '-', r == ' ':
		default:
			return false
		}
	}
	return digits >= 7 && digits <= 20
}

// StatusChange is one dated entry of a household's status history.
type StatusChange struct {
	ID          uuid.UUID
	HouseholdID uuid.UUID
	CountyID    uuid.UUID
	From        string
	To          string
	ExitYear    *int
	EffectiveOn Date
	Reason      string
	// Cause is a relapse's cause (RelapseCauses); empty for other moves.
	Cause      string
	ChangedBy  uuid.UUID
	RecordedAt time.Time
}

// PovertyTypeChange is one dated entry of a household's poverty-type history.
type PovertyTypeChange struct {
	ID          uuid.UUID
	HouseholdID uuid.UUID
	CountyID    uuid.UUID
	From        string
	To          string
	EffectiveOn Date
	Reason      string
	ChangedBy   uuid.UUID
	RecordedAt  time.Time
}

// statusMoves lists the status transitions the register allows; anything else
// is a data-entry mistake that must be fixed by a supervisor explicitly.
var statusMoves = map[string][]string{
	"":               {StatusRegistered, StatusEdge, StatusGeneral, StatusExited},
	StatusGeneral:    {StatusRegistered, StatusEdge},
	StatusEdge:       {StatusRegistered, StatusGeneral},
	StatusRegistered: {StatusExited, StatusRemoved},
	StatusExited:     {StatusRelapsed},
	StatusRelapsed:   {StatusRegistered},
	StatusRemoved:    {StatusGeneral},
}

// ValidateStatusChange checks a status transition for a household. Exiting
// needs the exit year; a poverty type is needed once a household is registered.
func ValidateStatusChange(h Household, to string, exitYear *int, povertyType string, effective Date, today Date) error {
	var fe FieldErrors
	if !Statuses.Has(to) {
		fe.Add("/status", "invalid_enum", "unknown status", "农户状态无效")
		return fe.Err()
	}
	allowed := false
	for _, s := range statusMoves[h.Status] {
		if s == to {
			allowed = true
		}
	}
	if !allowed {
		fe.Add("/status", "invalid_transition", transitionMessage(h.Status, to), "当前状态不能直接变更为该状态")
	}
	checkExitYear(&fe, to, exitYear, today)
	if (to == StatusRegistered || to == StatusExited) && povertyType == "" && h.PovertyType == "" {
		fe.Required("/poverty_type", "贫困户属性")
	}
	checkPovertyType(&fe, povertyType)
	switch {
	case effective.IsZero():
		fe.Required("/effective_on", "生效日期")
	case effective.After(today):
		fe.Add("/effective_on", "out_of_range", "effective date cannot be in the future", "生效日期不能晚于今天")
	case effective.Year < FirstYear:
		// a status dated before the register began sorts before its
		// registration in the history the rules read
		fe.Add("/effective_on", "out_of_range", fmt.Sprintf("effective date cannot be before %d", FirstYear), fmt.Sprintf("生效日期不能早于%d年", FirstYear))
	}
	return fe.Err()
}

// checkExitYear checks the exit year a move into to gives: exiting needs it.
func checkExitYear(fe *FieldErrors, to string, exitYear *int, today Date) {
	if to != StatusExited {
		return
	}
	if exitYear == nil {
		fe.Required("/exit_year", "脱贫年度")
	} else if *exitYear < FirstYear || *exitYear > today.Year {
		fe.Add("/exit_year", "out_of_range", fmt.Sprintf("exit year must be between %d and this year", FirstYear),
			fmt.Sprintf("脱贫年度应在%d年至今年之间", FirstYear))
	}
}

func checkPovertyType(fe *FieldErrors, povertyType string) {
	if povertyType != "" && !PovertyTypes.Has(povertyType) {
		fe.Add("/poverty_type", "invalid_enum", "unknown poverty type", "贫困户属性无效")
	}
}

// CheckStatusWhy checks what a move into status to says of why: a relapse
// names its cause (RelapseCauses), and only a relapse does; a removal
// (清退, after review) its reason; any other move may give a reason.
func CheckStatusWhy(fe *FieldErrors, to, cause, reason string) {
	if to == StatusRemoved {
		checkText(fe, "/reason", "清退原因", reason, 1, 500)
	} else {
		checkText(fe, "/reason", "变更原因", reason, 0, 500)
	}
	switch {
	case to == StatusRelapsed && cause == "":
		fe.Required("/cause", "返贫原因")
	case cause != "" && to != StatusRelapsed:
		fe.Add("/cause", "not_allowed", "a cause goes with status relapsed only", "只有返贫时填写返贫原因")
	case cause != "" && !RelapseCauses.Has(cause):
		fe.Add("/cause", "invalid_enum", "cause must be a relapse cause (GET /api/v1/vocabularies: relapse_causes)", "返贫原因无效")
	}
}

// ValidateOpeningStatus checks the status a household enters fieldvisit
// with when a county brings its register (an import): whatever status the
// register holds, since its history happened elsewhere — a relapsed or a
// removed household too, which the register reaches only through moves —
// with what that status needs: an exit its year; registered, exited and
// relapsed households (the poor, followed as such) their poverty type; a
// relapse its cause and a removal its reason (CheckStatusWhy), as the
// status move into them asks.
func ValidateOpeningStatus(to string, exitYear *int, povertyType, cause, reason string, today Date) error {
	var fe FieldErrors
	if !Statuses.Has(to) {
		fe.Add("/status", "invalid_enum", "unknown status", "农户状态无效")
		return fe.Err()
	}
	checkExitYear(&fe, to, exitYear, today)
	if (to == StatusRegistered || to == StatusExited || to == StatusRelapsed) && povertyType == "" {
		fe.Required("/poverty_type", "贫困户属性")
	}
	checkPovertyType(&fe, povertyType)
	CheckStatusWhy(&fe, to, cause, reason)
	return fe.Err()
}

func transitionMessage(from, to string) string {
	if from == "" {
		return "a new household cannot start as " + to
	}
	return "a " + from + " household cannot become " + to
}

// HouseholdFile is a household with its members and histories (一户一档).
type HouseholdFile struct {
	Household      Household
	Members        []Member
	StatusHistory  []StatusChange
	PovertyHistory []PovertyTypeChange
	// OpenPairings are those not ended, oldest first, with their cadre's
	// name and phone (who answers for the household now).
	OpenPairings []PairingRecord
	// PairingHistory is every pairing the household has had, ended ones
	// too, oldest first: the cadres over time.
	PairingHistory []PairingRecord
}
