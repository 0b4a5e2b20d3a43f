package storage

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fieldvisit/fieldvisit/domain"
)

type regionRow struct {
	ID            uuid.UUID  `gorm:"column:id;primaryKey"`
	ParentID      *uuid.UUID `gorm:"column:parent_id"`
	Level         string     `gorm:"column:level"`
	Code          string     `gorm:"column:code"`
	Name          string     `gorm:"column:name"`
	CountyID      *uuid.UUID `gorm:"column:county_id"`
	Path          string     `gorm:"column:path"`
	IsPoorVillage bool       `gorm:"column:is_poor_village"`
	CentroidLat   *float64   `gorm:"column:centroid_lat"`
	CentroidLon   *float64   `gorm:"column:centroid_lon"`
	CreatedAt     time.Time  `gorm:"column:created_at"`
}

func (regionRow) TableName() string { return "regions" }

func toDomainRegion(r regionRow) domain.Region {
	out := domain.Region{ID: r.ID, ParentID: r.ParentID, Level: r.Level, Code: r.Code, Name: r.Name,
		CountyID: r.CountyID, Path: r.Path, IsPoorVillage: r.IsPoorVillage}
	if r.CentroidLat != nil && r.CentroidLon != nil {
		out.Centroid = &domain.GeoPoint{Lat: *r.CentroidLat, Lon: *r.CentroidLon}
	}
	return out
}

func toRegionRow(r domain.Region, created time.Time) regionRow {
	row := regionRow{ID: r.ID, ParentID: r.ParentID, Level: r.Level, Code: r.Code, Name: r.Name,
		CountyID: r.CountyID, Path: r.Path, IsPoorVillage: r.IsPoorVillage, CreatedAt: created}
	if r.Centroid != nil {
		row.CentroidLat, row.CentroidLon = &r.Centroid.Lat, &r.Centroid.Lon
	}
	return row
}

// CreateRegion inserts a region and records it in the audit log.
func (s *Store) CreateRegion(ctx context.Context, r domain.Region, audit domain.AuditEntry) error {
	return s.inTx(ctx, "region", func(tx *gorm.DB) error {
		row := toRegionRow(r, s.stamp())
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		return s.appendAudit(tx, audit)
	})
}

// Region returns one region by id.
func (s *Store) Region(ctx context.Context, id uuid.UUID) (domain.Region, error) {
	var row regionRow
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&row).Error
	return toDomainRegion(row), translate(err, "region")
}

// RegionWithin returns a region that lies in the subtree at path; one
// outside it is not found, the same answer as an unknown id.
func (s *Store) RegionWithin(ctx context.Context, path string, id uuid.UUID) (domain.Region, error) {
	r, err := s.Region(ctx, id)
	if err == nil && (path == "" || !strings.HasPrefix(r.Path, path)) {
		return domain.Region{}, domain.NotFound("region")
	}
	return r, err
}

// Regions lists regions by filter, ordered by code, with the total count.
func (s *Store) Regions(ctx context.Context, f domain.RegionFilter) ([]domain.Region, int64, error) {
	q := s.db.WithContext(ctx).Model(&regionRow{})
	if f.WithinPath != "" {
		q = q.Where(like("path"), likePrefix(f.WithinPath))
	}
	if f.ParentID != nil {
		q = q.Where("parent_id = ?", *f.ParentID)
	}
	if f.Level != "" {
		q = q.Where("level = ?", f.Level)
	}
	if f.Query != "" {
		q = q.Where(like("name"), likeContains(f.Query))
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, translate(err, "region")
	}
	var rows []regionRow
	if err := q.Order("code").Limit(f.Limit).Offset(f.Offset).Find(&rows).Error; err != nil {
		return nil, 0, translate(err, "region")
	}
	out := make([]domain.Region, len(rows))
	for i, r := range rows {
		out[i] = toDomainRegion(r)
	}
	return out, total, nil
}

// UpdateRegion changes a region's name and poor-village mark.
func (s *Store) UpdateRegion(ctx context.Context, r domain.Region, audit domain.AuditEntry) error {
	return s.inTx(ctx, "region", func(tx *gorm.DB) error {
		res := tx.Model(&regionRow{}).Where("id = ?", r.ID).Updates(map[string]any{"name": r.Name, "is_poor_village": r.IsPoorVillage})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return domain.NotFound("region")
		}
		return s.appendAudit(tx, audit)
	})
}
