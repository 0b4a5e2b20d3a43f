package domain

import (
	"regexp"
	"strings"

	"github.com/google/uuid"
)

// Region is a node of the administrative tree. Path lists the IDs from the
// root down to and including this region ("/<id>/<id>/"), so a subtree is a
// prefix match — the scope check every object route needs.
type Region struct {
	ID            uuid.UUID
	ParentID      *uuid.UUID
	Level         string
	Code          string // national statistical code: 12 digits down to village; groups may use 12+3
	Name          string
	CountyID      *uuid.UUID // the county this region lies in (itself for a county); nil above county level
	Path          string
	IsPoorVillage bool // 贫困村, villages only
	// Centroid is the region's centre as a region sheet gives it (optional);
	// maps fall back to it where no household has a home point.
	Centroid *GeoPoint
}

// regionCode matches the 12-digit national code or a 15-digit group code.
var regionCode = regexp.MustCompile(`^[0-9]{12}([0-9]{3})?$`)

// childLevel says which level may sit under which.
var childLevel = map[string]string{
	LevelProvince: LevelCity, LevelCity: LevelCounty, LevelCounty: LevelTown,
	LevelTown: LevelVillage, LevelVillage: LevelGroup,
}

// ParentLevel is the level a region of level sits under ("" for a province).
func ParentLevel(level string) string {
	for parent, child := range childLevel {
		if child == level {
			return parent
		}
	}
	return ""
}

// ValidateRegion checks a new region against its parent (nil for a province).
func ValidateRegion(r Region, parent *Region) error {
	var fe FieldErrors
	if !RegionLevels.Has(r.Level) {
		fe.Add("/level", "invalid_enum", "level must be one of "+strings.Join(RegionLevels.Codes(), ", "), "行政级别无效")
	}
	if !regionCode.MatchString(r.Code) {
		fe.Add("/code", "invalid_format", "code must be the 12-digit national code (15 digits for a village group)", "行政区划代码应为12位国家统计用区划代码（村民小组15位）")
	}
	checkText(&fe, "/name", "名称", r.Name, 1, 100)
	if r.IsPoorVillage && r.Level != LevelVillage {
		fe.Add("/is_poor_village", "invalid", "only a village can be a poor village", "只有行政村可以标记为贫困村")
	}
	if r.Centroid != nil {
		ValidateGeoPoint(&fe, "/centroid", *r.Centroid)
	}
	if parent == nil && r.Level != LevelProvince && r.Level != "" && RegionLevels.Has(r.Level) {
		fe.Add("/parent_id", "required", "only a province may have no parent", "除省级外必须指定上级区划")
	}
	if parent != nil && childLevel[parent.Level] != r.Level {
		fe.Add("/level", "invalid", "a "+parent.Level+" cannot contain a "+r.Level, "上级区划下不能设置该级别")
	}
	return fe.Err()
}

// Contains reports whether r's subtree contains the region with path p.
func (r Region) Contains(p string) bool { return strings.HasPrefix(p, r.Path) }
