package storage

import (
	"database/sql"
	"strings"

	"gorm.io/gorm"
)

// The snapshot a fresh phone pulls reads thousands of rows; scanning them
// into explicit fields skips GORM's per-row reflection (about a third of a
// full pull's CPU in a profile).

var householdColumns = []string{"county_id", "id", "region_id", "village_id", "region_path", "number", "head_name", "address", "phone",
	"home_lat", "home_lon", "housing_structure", "housing_safety_grade", "housing_area", "arable_land", "annual_income", "income_notes",
	"causes", "poverty_type", "status", "exit_year", "registered_year", "declared_size", "version", "created_at", "updated_at"}

func (r *householdRow) fields() []any {
	return []any{&r.CountyID, &r.ID, &r.RegionID, &r.VillageID, &r.RegionPath, &r.Number, &r.HeadName, &r.Address, &r.Phone,
		&r.HomeLat, &r.HomeLon, &r.HousingStructure, &r.HousingSafetyGrade, &r.HousingArea, &r.ArableLand, &r.AnnualIncome, &r.IncomeNotes,
		&r.Causes, &r.PovertyType, &r.Status, &r.ExitYear, &r.RegisteredYear, &r.DeclaredSize, &r.Version, &r.CreatedAt, &r.UpdatedAt}
}

var memberColumns = []string{"county_id", "id", "household_id", "name", "relation", "id_number", "gender", "birth_date", "health",
	"disability", "education", "work", "phone", "version", "created_at", "updated_at"}

func (r *memberRow) fields() []any {
	return []any{&r.CountyID, &r.ID, &r.HouseholdID, &r.Name, &r.Relation, &r.IDNumber, &r.Gender, &r.BirthDate, &r.Health,
		&r.Disability, &r.Education, &r.Work, &r.Phone, &r.Version, &r.CreatedAt, &r.UpdatedAt}
}

// qualified prefixes columns with their table, for queries that join.
func qualified(table string, cols []string) string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = table + "." + c
	}
	return strings.Join(out, ", ")
}

// scanAll runs q and scans each row through fields of a fresh T.
func scanAll[T any](q *gorm.DB, fields func(*T) []any) ([]T, error) {
	rows, err := q.Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return collect(rows, fields)
}

func collect[T any](rows *sql.Rows, fields func(*T) []any) ([]T, error) {
	var out []T
	for rows.Next() {
		var v T
		if err := rows.Scan(fields(&v)...); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
