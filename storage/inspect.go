package storage

import (
	"context"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/inspect"
	"github.com/fieldvisit/fieldvisit/internal/inspect/sampling"
)

type campaignRow struct {
	ID             uuid.UUID                    `gorm:"column:id;primaryKey"`
	CountyID       *uuid.UUID                   `gorm:"column:county_id"`
	RegionID       uuid.UUID                    `gorm:"column:region_id"`
	RegionPath     string                       `gorm:"column:region_path"`
	Name           string                       `gorm:"column:name"`
	PeriodFrom     sqlDate                      `gorm:"column:period_from"`
	PeriodTo       sqlDate                      `gorm:"column:period_to"`
	Mode           string                       `gorm:"column:mode"`
	Plan           jsonValue[planColumn]        `gorm:"column:plan"`
	Status         string                       `gorm:"column:status"`
	CreatedBy      uuid.UUID                    `gorm:"column:created_by"`
	CreatedAt      time.Time                    `gorm:"column:created_at"`
	EndedAt        *time.Time                   `gorm:"column:ended_at"`
	Seed           string                       `gorm:"column:seed"`
	Algorithm      string                       `gorm:"column:algorithm"`
	PopulationHash string                       `gorm:"column:population_hash"`
	DrawnAt        *time.Time                   `gorm:"column:drawn_at"`
	Shortfalls     jsonValue[[]shortfallColumn] `gorm:"column:shortfalls"`
	Version        int64                        `gorm:"column:version"`
}

func (campaignRow) TableName() string { return "inspection_campaigns" }

// planColumn is how a plan is kept in its JSON column: storage's own
// shape, so a field renamed in the service never strands a stored plan.
type planColumn struct {
	KeyPoorVillages      bool            `json:"key_poor_villages"`
	VillagesPerTown      int             `json:"villages_per_town"`
	Strata               []stratumColumn `json:"strata"`
	ExcludeLastCampaigns int             `json:"exclude_last_campaigns"`
	// Targets is absent from plans stored before campaigns had targets:
	// those read back with the defaults.
	Targets *targetsColumn `json:"targets,omitempty"`
}

type targetsColumn struct {
	Awareness    float64 `json:"awareness"`
	Satisfaction float64 `json:"satisfaction"`
}

type stratumColumn struct {
	Code     string   `json:"code"`
	Statuses []string `json:"statuses"`
	Size     int      `json:"size"`
}

type shortfallColumn struct {
	TownID    uuid.UUID  `json:"town_id"`
	VillageID *uuid.UUID `json:"village_id,omitempty"`
	Stratum   string     `json:"stratum"`
	Wanted    int        `json:"wanted"`
	Found     int        `json:"found"`
}

func toPlanColumn(p inspect.Plan) planColumn {
	out := planColumn{KeyPoorVillages: p.KeyPoorVillages, VillagesPerTown: p.VillagesPerTown, ExcludeLastCampaigns: p.ExcludeLastCampaigns,
		Strata: make([]stratumColumn, len(p.Strata)), Targets: &targetsColumn{Awareness: p.Targets.Awareness, Satisfaction: p.Targets.Satisfaction}}
	for i, s := range p.Strata {
		out.Strata[i] = stratumColumn{Code: s.Code, Statuses: s.Statuses, Size: s.Size}
	}
	return out
}

func (c planColumn) plan() inspect.Plan {
	out := inspect.Plan{Plan: sampling.Plan{KeyPoorVillages: c.KeyPoorVillages, VillagesPerTown: c.VillagesPerTown,
		Strata: make([]sampling.Stratum, len(c.Strata))}, ExcludeLastCampaigns: c.ExcludeLastCampaigns, Targets: inspect.DefaultTargets()}
	for i, s := range c.Strata {
		out.Strata[i] = sampling.Stratum{Code: s.Code, Statuses: s.Statuses, Size: s.Size}
	}
	if c.Targets != nil {
		out.Targets = inspect.Targets{Awareness: c.Targets.Awareness, Satisfaction: c.Targets.Satisfaction}
	}
	return out
}

func toShortfallColumns(fs []sampling.Shortfall) []shortfallColumn {
	out := make([]shortfallColumn, len(fs))
	for i, f := range fs {
		out[i] = shortfallColumn{TownID: f.TownID, VillageID: f.VillageID, Stratum: f.Stratum, Wanted: f.Wanted, Found: f.Found}
	}
	return out
}

func toCampaignRow(c inspect.Campaign) campaignRow {
	return campaignRow{ID: c.ID, CountyID: c.CountyID, RegionID: c.RegionID, RegionPath: c.RegionPath, Name: c.Name,
		PeriodFrom: toSQLDate(c.PeriodFrom), PeriodTo: toSQLDate(c.PeriodTo), Mode: c.Mode, Plan: jsonValue[planColumn]{toPlanColumn(c.Plan)},
		Status: c.Status, CreatedBy: c.CreatedBy, CreatedAt: utc(c.CreatedAt), EndedAt: c.EndedAt, Seed: c.Seed, Algorithm: c.Algorithm,
		PopulationHash: c.PopulationHash, DrawnAt: c.DrawnAt, Shortfalls: jsonValue[[]shortfallColumn]{toShortfallColumns(c.Shortfalls)},
		Version: c.Version}
}

func toCampaign(r campaignRow, inspectors []uuid.UUID) inspect.Campaign {
	c := inspect.Campaign{ID: r.ID, CountyID: r.CountyID, RegionID: r.RegionID, RegionPath: r.RegionPath, Name: r.Name,
		PeriodFrom: r.PeriodFrom.date(), PeriodTo: r.PeriodTo.date(), Mode: r.Mode, Plan: r.Plan.V.plan(), Inspectors: inspectors,
		Status: r.Status, CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt.UTC(), EndedAt: utcPtr(r.EndedAt), Seed: r.Seed,
		Algorithm: r.Algorithm, PopulationHash: r.PopulationHash, DrawnAt: utcPtr(r.DrawnAt), Shortfalls: []sampling.Shortfall{},
		Version: r.Version}
	for _, f := range r.Shortfalls.V {
		c.Shortfalls = append(c.Shortfalls, sampling.Shortfall{TownID: f.TownID, VillageID: f.VillageID, Stratum: f.Stratum, Wanted: f.Wanted, Found: f.Found})
	}
	return c
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

type campaignInspectorRow struct {
	CampaignID uuid.UUID `gorm:"column:campaign_id;primaryKey"`
	UserID     uuid.UUID `gorm:"column:user_id;primaryKey"`
}

func (campaignInspectorRow) TableName() string { return "inspection_inspectors" }

type sampleVillageRow struct {
	CampaignID uuid.UUID `gorm:"column:campaign_id;primaryKey"`
	VillageID  uuid.UUID `gorm:"column:village_id;primaryKey"`
	TownID     uuid.UUID `gorm:"column:town_id"`
	Stratum    string    `gorm:"column:stratum"`
	Position   int       `gorm:"column:position"`
}

func (sampleVillageRow) TableName() string { return "inspection_sample_villages" }

type sampleHouseholdRow struct {
	CampaignID  uuid.UUID  `gorm:"column:campaign_id;primaryKey"`
	HouseholdID uuid.UUID  `gorm:"column:household_id;primaryKey"`
	CountyID    uuid.UUID  `gorm:"column:county_id"`
	VillageID   uuid.UUID  `gorm:"column:village_id"`
	TownID      uuid.UUID  `gorm:"column:town_id"`
	Stratum     string     `gorm:"column:stratum"`
	Position    int        `gorm:"column:position"`
	DoneAt      *time.Time `gorm:"column:done_at"`
}

func (sampleHouseholdRow) TableName() string { return "inspection_sample" }

type taskRow struct {
	CampaignID  uuid.UUID `gorm:"column:campaign_id;primaryKey"`
	HouseholdID uuid.UUID `gorm:"column:household_id;primaryKey"`
	InspectorID uuid.UUID `gorm:"column:inspector_id;primaryKey"`
	CountyID    uuid.UUID `gorm:"column:county_id"`
	Active      bool      `gorm:"column:active"`
}

func (taskRow) TableName() string { return "inspection_tasks" }

// CreateCampaign stores a new campaign with its inspectors.
func (s *Store) CreateCampaign(ctx context.Context, c inspect.Campaign, audit domain.AuditEntry) error {
	return s.inTx(ctx, "inspection", func(tx *gorm.DB) error {
		row := toCampaignRow(c)
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		if len(c.Inspectors) > 0 {
			rows := make([]campaignInspectorRow, len(c.Inspectors))
			for i, id := range c.Inspectors {
				rows[i] = campaignInspectorRow{CampaignID: c.ID, UserID: id}
			}
			if err := tx.Create(&rows).Error; err != nil {
				return err
			}
		}
		return s.appendAudit(tx, audit)
	})
}

// Campaign reads one campaign.
func (s *Store) Campaign(ctx context.Context, id uuid.UUID) (inspect.Campaign, error) {
	return s.campaign(s.db.WithContext(ctx), id)
}

// CampaignForUpdate reads a campaign and locks it for the transaction.
func (s *Store) CampaignForUpdate(ctx context.Context, id uuid.UUID) (inspect.Campaign, error) {
	q := s.db.WithContext(ctx)
	if s.dialect == Postgres {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	return s.campaign(q, id)
}

func (s *Store) campaign(q *gorm.DB, id uuid.UUID) (inspect.Campaign, error) {
	var row campaignRow
	if err := q.Where("id = ?", id).Take(&row).Error; err != nil {
		return inspect.Campaign{}, translate(err, "inspection")
	}
	ins, err := s.inspectorsOf(q.Session(&gorm.Session{NewDB: true}), []uuid.UUID{id})
	return toCampaign(row, ins[id]), translate(err, "inspection")
}

func (s *Store) inspectorsOf(q *gorm.DB, campaigns []uuid.UUID) (map[uuid.UUID][]uuid.UUID, error) {
	var rows []campaignInspectorRow
	if err := q.Model(&campaignInspectorRow{}).Where("campaign_id IN ?", campaigns).Order("campaign_id, user_id").Find(&rows).Error; err != nil {
		return nil, err
	}
	out := map[uuid.UUID][]uuid.UUID{}
	for _, r := range rows {
		out[r.CampaignID] = append(out[r.CampaignID], r.UserID)
	}
	return out, nil
}

// CampaignsNear lists the campaigns whose region contains path or lies in
// it, newest first.
func (s *Store) CampaignsNear(ctx context.Context, path string) ([]inspect.Campaign, error) {
	db := s.db.WithContext(ctx)
	var rows []campaignRow
	err := db.Where(db.Where(like("region_path"), likePrefix(path)).Or("? LIKE region_path || '%'", path)).
		Order("created_at DESC, id").Find(&rows).Error
	if err != nil {
		return nil, translate(err, "inspection")
	}
	ids := make([]uuid.UUID, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	ins, err := s.inspectorsOf(s.db.WithContext(ctx), ids)
	if err != nil {
		return nil, translate(err, "inspection")
	}
	out := make([]inspect.Campaign, len(rows))
	for i, r := range rows {
		out[i] = toCampaign(r, ins[r.ID])
	}
	return out, nil
}

// Population reads a region's villages, with their towns and poverty
// flags, and their households' statuses. A province of a million
// households is read row by row into plain values, on PostgreSQL through
// pgx's own scanning (eachRow). It reads outside any transaction.
func (s *Store) Population(ctx context.Context, regionPath string) (sampling.Population, error) {
	var pop sampling.Population
	var town *uuid.UUID
	err := eachRow(ctx, s, "region", `SELECT id, parent_id, is_poor_village FROM regions WHERE level = ? AND `+like("path"),
		[]any{domain.LevelVillage, likePrefix(regionPath)},
		func(v *sampling.Village) []any { return []any{&v.ID, &town, &v.Poor} },
		func(v *sampling.Village) error {
			if town != nil {
				v.TownID = *town
			}
			pop.Villages = append(pop.Villages, *v)
			return nil
		})
	if err != nil {
		return pop, err
	}
	err = eachRow(ctx, s, "household", `SELECT id, village_id, status FROM households WHERE `+like("region_path"),
		[]any{likePrefix(regionPath)},
		func(h *sampling.Household) []any { return []any{&h.ID, &h.VillageID, &h.Status} },
		func(h *sampling.Household) error {
			pop.Households = append(pop.Households, *h)
			return nil
		})
	return pop, err
}

// HouseholdLabels returns the number and head of each household among
// ids that exists.
func (s *Store) HouseholdLabels(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]inspect.HouseholdLabel, error) {
	out := make(map[uuid.UUID]inspect.HouseholdLabel, len(ids))
	var id uuid.UUID
	err := eachByID(ctx, s, "household", "SELECT id, number, head_name FROM households WHERE id", nil, ids,
		func(l *inspect.HouseholdLabel) []any { return []any{&id, &l.Number, &l.HeadName} },
		func(l *inspect.HouseholdLabel) { out[id] = *l })
	return out, err
}

// SampledBy returns the households sampled by the last n campaigns drawn
// before before over the region (or a region containing it or inside it).
func (s *Store) SampledBy(ctx context.Context, regionPath string, before time.Time, n int) (map[uuid.UUID]bool, error) {
	db := s.db.WithContext(ctx)
	var ids []uuid.UUID
	err := db.Model(&campaignRow{}).Where("drawn_at IS NOT NULL AND drawn_at < ?", before.UTC()).
		Where(db.Where(like("region_path"), likePrefix(regionPath)).Or("? LIKE region_path || '%'", regionPath)).
		Order("drawn_at DESC, id").Limit(n).Pluck("id", &ids).Error
	if err != nil || len(ids) == 0 {
		return map[uuid.UUID]bool{}, translate(err, "inspection")
	}
	var hs []uuid.UUID
	if err := db.Model(&sampleHouseholdRow{}).Where("campaign_id IN ?", ids).Pluck("household_id", &hs).Error; err != nil {
		return nil, translate(err, "inspection")
	}
	out := make(map[uuid.UUID]bool, len(hs))
	for _, h := range hs {
		out[h] = true
	}
	return out, nil
}

// SaveDraw stores a campaign's draw: the campaign's new state, its sample
// in draw order, and the inspectors' tasks with their feed rows.
func (s *Store) SaveDraw(ctx context.Context, c inspect.Campaign, smp sampling.Sample, tasks []inspect.Task, audit domain.AuditEntry) error {
	return s.inTx(ctx, "inspection", func(tx *gorm.DB) error {
		row := toCampaignRow(c)
		res := tx.Model(&campaignRow{}).Where("id = ? AND version = ?", c.ID, c.Version-1).Updates(map[string]any{
			"status": row.Status, "seed": row.Seed, "algorithm": row.Algorithm, "population_hash": row.PopulationHash,
			"drawn_at": row.DrawnAt, "shortfalls": row.Shortfalls, "version": row.Version})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return domain.Stale("inspection", "督查")
		}
		// A household's county is its village's: one lookup per drawn
		// village rather than per household.
		vids := make([]uuid.UUID, len(smp.Villages))
		for i, v := range smp.Villages {
			vids[i] = v.ID
		}
		county := make(map[uuid.UUID]uuid.UUID, len(vids))
		for _, part := range chunks(vids, 1000) {
			var cs []struct{ ID, CountyID uuid.UUID }
			if err := tx.Model(&regionRow{}).Select("id, county_id").Where("id IN ?", part).Scan(&cs).Error; err != nil {
				return err
			}
			for _, x := range cs {
				county[x.ID] = x.CountyID
			}
		}
		if err := s.insertSampleVillages(tx, c.ID, smp.Villages); err != nil {
			return err
		}
		if err := s.insertSampleHouseholds(tx, c.ID, smp.Households, county); err != nil {
			return err
		}
		countyOf := make(map[uuid.UUID]uuid.UUID, len(smp.Households))
		for _, h := range smp.Households {
			countyOf[h.ID] = county[h.VillageID]
		}
		trows := make([]taskRow, len(tasks))
		for i, t := range tasks {
			trows[i] = taskRow{CampaignID: t.CampaignID, HouseholdID: t.HouseholdID, InspectorID: t.InspectorID, CountyID: countyOf[t.HouseholdID], Active: true}
		}
		if err := s.insertTasks(tx, trows); err != nil {
			return err
		}
		// Each task reaches its inspector's phone through the feed, and
		// brings its household with it.
		if err := s.appendTaskChanges(tx, trows, "upsert"); err != nil {
			return err
		}
		return s.appendAudit(tx, audit)
	})
}

// insertSampleVillages writes a draw's villages in draw order.
func (s *Store) insertSampleVillages(tx *gorm.DB, campaign uuid.UUID, vs []sampling.DrawnVillage) error {
	n := len(vs)
	campaigns, ids, towns, strata, positions := make([]uuid.UUID, n), make([]uuid.UUID, n), make([]uuid.UUID, n), make([]string, n), make([]int32, n)
	for i, v := range vs {
		campaigns[i], ids[i], towns[i], strata[i], positions[i] = campaign, v.ID, v.TownID, v.Stratum, int32(i)
	}
	return s.insertColumns(tx, "inspection_sample_villages", n,
		bulkColumn{"campaign_id", "uuid", campaigns}, bulkColumn{"village_id", "uuid", ids}, bulkColumn{"town_id", "uuid", towns},
		bulkColumn{"stratum", "text", strata}, bulkColumn{"position", "integer", positions})
}

// insertSampleHouseholds writes a draw's households in draw order, each
// with its village's county.
func (s *Store) insertSampleHouseholds(tx *gorm.DB, campaign uuid.UUID, hs []sampling.DrawnHousehold, county map[uuid.UUID]uuid.UUID) error {
	n := len(hs)
	campaigns, ids, counties, villages, towns := make([]uuid.UUID, n), make([]uuid.UUID, n), make([]uuid.UUID, n), make([]uuid.UUID, n), make([]uuid.UUID, n)
	strata, positions := make([]string, n), make([]int32, n)
	for i, h := range hs {
		campaigns[i], ids[i], counties[i], villages[i], towns[i] = campaign, h.ID, county[h.VillageID], h.VillageID, h.TownID
		strata[i], positions[i] = h.Stratum, int32(i)
	}
	return s.insertColumns(tx, "inspection_sample", n,
		bulkColumn{"campaign_id", "uuid", campaigns}, bulkColumn{"household_id", "uuid", ids}, bulkColumn{"county_id", "uuid", counties},
		bulkColumn{"village_id", "uuid", villages}, bulkColumn{"town_id", "uuid", towns}, bulkColumn{"stratum", "text", strata},
		bulkColumn{"position", "integer", positions})
}

// insertTasks writes tasks.
func (s *Store) insertTasks(tx *gorm.DB, ts []taskRow) error {
	n := len(ts)
	campaigns, households, inspectors, counties, active := make([]uuid.UUID, n), make([]uuid.UUID, n), make([]uuid.UUID, n), make([]uuid.UUID, n), make([]bool, n)
	for i, t := range ts {
		campaigns[i], households[i], inspectors[i], counties[i], active[i] = t.CampaignID, t.HouseholdID, t.InspectorID, t.CountyID, t.Active
	}
	return s.insertColumns(tx, "inspection_tasks", n,
		bulkColumn{"campaign_id", "uuid", campaigns}, bulkColumn{"household_id", "uuid", households}, bulkColumn{"inspector_id", "uuid", inspectors},
		bulkColumn{"county_id", "uuid", counties}, bulkColumn{"active", "boolean", active})
}

// Sample reads a campaign's drawn sample in draw order.
func (s *Store) Sample(ctx context.Context, campaignID uuid.UUID) (inspect.Sample, error) {
	db := s.db.WithContext(ctx)
	var vs []sampleVillageRow
	if err := db.Where("campaign_id = ?", campaignID).Order("position").Find(&vs).Error; err != nil {
		return inspect.Sample{}, translate(err, "sample")
	}
	out := inspect.Sample{Villages: make([]sampling.DrawnVillage, len(vs)), Households: []inspect.SampledHousehold{}}
	for i, v := range vs {
		out.Villages[i] = sampling.DrawnVillage{ID: v.VillageID, TownID: v.TownID, Stratum: v.Stratum}
	}
	// A province's sample is tens of thousands of households: read through
	// pgx's own scanning on PostgreSQL.
	err := eachRow(ctx, s, "sample", `SELECT household_id, county_id, village_id, town_id, stratum, done_at FROM inspection_sample
		WHERE campaign_id = ? ORDER BY position`, []any{campaignID},
		func(h *inspect.SampledHousehold) []any {
			return []any{&h.HouseholdID, &h.CountyID, &h.VillageID, &h.TownID, &h.Stratum, &h.DoneAt}
		},
		func(h *inspect.SampledHousehold) error {
			h.DoneAt = utcPtr(h.DoneAt)
			out.Households = append(out.Households, *h)
			return nil
		})
	return out, err
}

// EndCampaign closes a campaign and its tasks, with their feed rows.
func (s *Store) EndCampaign(ctx context.Context, c inspect.Campaign, at time.Time, audit domain.AuditEntry) error {
	return s.inTx(ctx, "inspection", func(tx *gorm.DB) error {
		res := tx.Model(&campaignRow{}).Where("id = ? AND version = ?", c.ID, c.Version-1).
			Updates(map[string]any{"status": c.Status, "ended_at": at.UTC(), "version": c.Version})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return domain.Stale("inspection", "督查")
		}
		var ending []taskRow
		if err := tx.Where("campaign_id = ? AND active", c.ID).Find(&ending).Error; err != nil {
			return err
		}
		if err := tx.Model(&taskRow{}).Where("campaign_id = ? AND active", c.ID).Update("active", false).Error; err != nil {
			return err
		}
		// The tasks leave the inspectors' phones through the feed, and
		// take with them the households no other task keeps there.
		if err := s.appendTaskChanges(tx, ending, "delete"); err != nil {
			return err
		}
		if c.Mode == inspect.ModeUnannounced {
			if err := s.revealInspectionVisits(tx, c.ID); err != nil {
				return err
			}
		}
		return s.appendAudit(tx, audit)
	})
}

// revealInspectionVisits tells the readers an unannounced campaign's
// inspection visits were kept from (visitShown) that they may see them now
// it ended: its households are judged again (the stored judgements left
// the visits out) and each visit gets a feed row, so a phone whose cursor
// passed the visit while it was hidden receives it.
func (s *Store) revealInspectionVisits(tx *gorm.DB, campaignID uuid.UUID) error {
	var rows []visitRow
	err := tx.Select("county_id, id, household_id, cadre_id, started_at, version, deleted").
		Where("kind = ? AND household_id IN (SELECT household_id FROM inspection_sample WHERE campaign_id = ?)", domain.KindInspection, campaignID).
		Find(&rows).Error
	if err != nil || len(rows) == 0 {
		return err
	}
	vs, changes := make([]domain.Visit, len(rows)), make([]feedEntry, len(rows))
	for i, r := range rows {
		vs[i] = toDomainVisit(r)
		op := "update"
		if r.Deleted {
			op = "delete"
		}
		changes[i] = visitChange(vs[i], op)
	}
	if err := queueVisits(tx, s.importBatch(), vs, s.stamp()); err != nil {
		return err
	}
	return s.appendChanges(tx, changes)
}
