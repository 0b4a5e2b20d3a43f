package storage

import (
	"context"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// A pull page of the change feed names up to 2,000 records; these read
// their current state in one query per kind on PostgreSQL (the ids go as
// one uuid[] parameter: one plan whatever their number, one round trip),
// a few hundred ids per query on SQLite, instead of one query a change.

const lookupChunk = 500

// uniqueIDs keeps the first of each id, in order.
func uniqueIDs(ids []uuid.UUID) []uuid.UUID {
	seen := make(map[uuid.UUID]bool, len(ids))
	out := make([]uuid.UUID, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// eachByID runs query (ending in the id column to match) for ids and hands
// every row to each: on PostgreSQL once, with the column = ANY(ids); on
// SQLite for each chunk of ids, with an IN list of the chunk's
// placeholders. Earlier 500-id chunks on PostgreSQL cost a plan and a
// round trip each, and each chunk re-ran the query's scope walk (a quarter
// of an incremental pull of 2,000 households, measured).
func eachByID[T any](ctx context.Context, s *Store, entity, query string, args []any, ids []uuid.UUID, fields func(*T) []any, each func(*T)) error {
	ids = uniqueIDs(ids)
	if len(ids) == 0 {
		return nil
	}
	row := func(r *T) error { each(r); return nil }
	if s.dialect == Postgres {
		return eachRow(ctx, s, entity, query+" = ANY(?)", append(slices.Clip(args), ids), fields, row)
	}
	for _, part := range chunks(ids, lookupChunk) {
		q := query + " IN (?" + strings.Repeat(", ?", len(part)-1) + ")"
		a := slices.Clip(args)
		for _, id := range part {
			a = append(a, id)
		}
		if err := eachRow(ctx, s, entity, q, a, fields, row); err != nil {
			return err
		}
	}
	return nil
}

// MembersByID returns the members among ids that exist, by id.
func (s *Store) MembersByID(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]domain.Member, error) {
	out := make(map[uuid.UUID]domain.Member, len(ids))
	err := eachByID(ctx, s, "member", "SELECT "+qualified("m", memberColumns)+" FROM members m WHERE m.id", nil, ids,
		(*memberRow).fields, func(r *memberRow) { out[r.ID] = toDomainMember(*r) })
	return out, err
}

// MembersOf returns the members of households, by household (a scope
// change's walk sends each household with its members).
func (s *Store) MembersOf(ctx context.Context, households []domain.Household) (map[uuid.UUID][]domain.Member, error) {
	out := make(map[uuid.UUID][]domain.Member, len(households))
	err := eachOfHouseholds(ctx, s, "member", "SELECT "+qualified("m", memberColumns)+" FROM members m WHERE m.county_id = ? AND m.household_id", households,
		(*memberRow).fields, func(r *memberRow) { out[r.HouseholdID] = append(out[r.HouseholdID], toDomainMember(*r)) })
	if err != nil {
		return nil, err
	}
	return out, nil
}

// eachOfHouseholds runs query, which ends "county_id = ? AND
// <alias>.household_id" for eachByID to complete, once for each county of
// households with that county's household ids (the key starts with the
// county), handing every row to each.
func eachOfHouseholds[T any](ctx context.Context, s *Store, entity, query string, households []domain.Household, fields func(*T) []any, each func(*T)) error {
	byCounty := map[uuid.UUID][]uuid.UUID{}
	for _, h := range households {
		byCounty[h.CountyID] = append(byCounty[h.CountyID], h.ID)
	}
	for county, ids := range byCounty {
		if err := eachByID(ctx, s, entity, query, []any{county}, ids, fields, each); err != nil {
			return err
		}
	}
	return nil
}

// PairingsByID returns the pairings among ids that exist, by id, with
// their cadres' names and phones, without scope (the feed checks it).
func (s *Store) PairingsByID(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]domain.PairingRecord, error) {
	out := make(map[uuid.UUID]domain.PairingRecord, len(ids))
	err := eachByID(ctx, s, "pairing", "SELECT "+pairingRecordSelect("p")+" FROM pairings p"+pairingCadreJoin("p")+" WHERE p.id", nil, ids,
		(*pairingRecordScan).fields, func(r *pairingRecordScan) { out[r.Pairing.ID] = r.record() })
	return out, err
}

// HouseholdsByID returns the households among ids that exist, by id,
// without scope (a household that left the caller's scope is sent as
// tombstones).
func (s *Store) HouseholdsByID(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]domain.Household, error) {
	out := make(map[uuid.UUID]domain.Household, len(ids))
	err := eachByID(ctx, s, "household", "SELECT "+qualified("h", householdColumns)+" FROM households h WHERE h.id", nil, ids,
		(*householdRow).fields, func(r *householdRow) { out[r.ID] = toDomainHousehold(*r) })
	return out, err
}

// HouseholdsInScope returns the households among ids that lie in scope on
// today, by id.
func (s *Store) HouseholdsInScope(ctx context.Context, scope domain.HouseholdScope, today domain.Date, ids []uuid.UUID) (map[uuid.UUID]domain.Household, error) {
	q, args := scopeWalk(scope, today).households()
	out := make(map[uuid.UUID]domain.Household, len(ids))
	err := eachByID(ctx, s, "household", q+" AND h.id", args, ids,
		(*householdRow).fields, func(r *householdRow) { out[r.ID] = toDomainHousehold(*r) })
	return out, err
}

// HouseholdsInRegions pages, by id, the households within the subtree
// within that lie in the subtree of any of regions (a scope change's walk;
// the caller decides what each one's records become).
func (s *Store) HouseholdsInRegions(ctx context.Context, within string, regions []uuid.UUID, after uuid.UUID, limit int) ([]domain.Household, error) {
	if len(regions) == 0 || within == "" {
		return nil, nil
	}
	conds := make([]string, len(regions))
	args := []any{likePrefix(within)}
	for i, r := range regions {
		c, arg := inRegion("h.region_path", r)
		conds[i], args = c, append(args, arg)
	}
	q := "SELECT " + qualified("h", householdColumns) + " FROM households h WHERE " + like("h.region_path") +
		" AND (" + strings.Join(conds, " OR ") + ") AND h.id > ? ORDER BY h.id LIMIT ?"
	var out []domain.Household
	err := eachRow(ctx, s, "household", q, append(args, after, limit), (*householdRow).fields,
		func(r *householdRow) error { out = append(out, toDomainHousehold(*r)); return nil })
	return out, err
}
