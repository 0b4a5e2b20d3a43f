// Package rules owns the visit-frequency and duty rules of poverty-alleviation
// visits (精准扶贫): how often cadres must visit which households, what unit
// heads, unit members, town heads and county leaders must do, the "321"
// pairing quota and 不脱贫不脱钩. Rules are data (Profile, Rule) so a county
// can tune every number; each carries the seed sentence it encodes and,
// where the seed gives no number, the choice made instead.
//
// The package is pure: it judges facts handed to it (HouseholdFacts,
// VisitFact, CadreFacts) and returns statuses and findings with zh-CN
// explanations. It reads no database and knows no transport.
//
// Design choices, each also stated in the explanations cadres read:
//
//   - Calendar windows are Asia/Shanghai days. A visit belongs to the day it
//     started on there; 2026-12-31T17:00Z counts for 2027.
//   - A rule covers a household on the days its status history matches, not
//     by its current status. A window covered only partly requires
//     ceil(count × covered days / window days) visits; fewer than GraceDays
//     (default 7) covered days require none. Visits on uncovered days do not
//     count for that rule (rule_not_applicable).
//   - At most one visit per day counts for a status. Two cadres at one
//     household on one day are one visit for the household (the household
//     was visited once that day); for pairing rules each cadre's own visit
//     counts for their own pair. Cadre duty rules count days in the village.
//   - For household rules only a cadre paired with the household on that day
//     counts, unless the rule says AnyCadre. History stays with the
//     household: a former cadre's visits during their pairing still count.
//   - Condolence (慰问) visits do not count: 002 allows them beside the
//     assistance work on festivals. Inspection visits are inspectors', not
//     the cadre's. Both are configurable per rule (CountKinds).
//   - A visit with no end time is not "too short": its duration is unknown.
//   - States, best first: met, on_track, due_soon, overdue, missed. overdue
//     means behind the pro-rata pace expected by today and wins over
//     due_soon; missed means the last covered day has passed. Adding a
//     counted visit never makes a state worse.
package rules
