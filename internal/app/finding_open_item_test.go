package app

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/wire"
)

// findingWay is one way an inspector records and corrects a finding: the
// findings route (a household's, a village's) or the phone's push of the
// inspection visit the findings were recorded on.
type findingWay struct {
	name     string
	answers  map[string]map[string]any // by case: the answers sent
	record   func(t *testing.T, answers map[string]any)
	correct  func(t *testing.T, answers map[string]any) *findingRefusal // nil: taken
	finding  func(t *testing.T) wire.InspectionFinding
	evidence func(t *testing.T) uuid.UUID // a visit the item's cadre may close it with
	cadre    string                       // who answers for the item
	refusal  findingRefusal               // how it refuses a correction, the item's id aside
}

// findingRefusal is a correction refused, as its way answers it.
type findingRefusal struct {
	field, reason, messageZH string
	existingID               uuid.UUID // the route's problem member; the push names the item in its message only
}

// TestAFindingWithAnOpenItemKeepsAProblem: while a finding has a
// rectification item not closed (open, in progress, submitted), a
// correction that would leave it recording no problem — no problem answer,
// no discrepancy with the cadre's records — is refused, naming the item,
// on every way a finding is corrected: the findings routes answer 409
// (reason has_open_item at /answers, the item in existing_id), the phone's
// push rejects that change alone (at its data/findings/answers). A
// correction that still records a problem, whichever, is taken; once the
// item is closed (销号) the finding may say nothing is wrong. Nothing
// refused is written.
func TestAFindingWithAnOpenItemKeepsAProblem(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		e.inspectable(t)
		c, sampled := e.drawCampaign(t, "announced")
		insp, admin := e.login(t, "inspector"), e.login(t, "admin")
		hA, hB := e.householdA.Household.ID, e.householdB.Household.ID
		if !sampled[hA] || !sampled[hB] {
			t.Fatal("households A and B were not both drawn")
		}
		// Each household's cadre recorded three visits this quarter: a
		// household recalling none is a discrepancy with the records,
		// though every answer is in order.
		for cadre, h := range map[string]uuid.UUID{"cadre-a": hA, "cadre-b": hB} {
			tok := e.login(t, cadre)
			for _, days := range []int{10, 20, 30} {
				if r := e.pushOne(t, tok, "phone-"+cadre, visitOn(uuid.New(), h, domain.KindAssist, time.Now().AddDate(0, 0, -days))); r.Status != wire.StatusApplied {
					t.Fatalf("%s's visit: %+v", cadre, r)
				}
			}
		}
		household := map[string]map[string]any{
			"problem":     householdAnswers(func(a map[string]any) { a["housing"] = map[string]any{"choice": "problem"} }),
			"in order":    recalled(10), // every visit of the cadre's, the item's evidence too
			"another":     householdAnswers(func(a map[string]any) { a["water"] = map[string]any{"choice": "problem"} }),
			"discrepancy": recalled(0),
		}
		village := map[string]map[string]any{"problem": villageAnswers(), "in order": villageAnswers(), "another": villageAnswers()}
		village["problem"]["road"] = map[string]any{"yes": false}
		village["another"]["water"] = map[string]any{"yes": false}

		// The findings route, for a household or a village.
		route := func(name, kind string, subject uuid.UUID, answers map[string]map[string]any, cadre string, evidenceAt uuid.UUID) findingWay {
			path := findingsPath(c.ID, kind, subject)
			read := func(t *testing.T) wire.InspectionFinding {
				t.Helper()
				var list wire.InspectionFindings
				r := e.do(t, "GET", "/api/v1/inspections/"+c.ID.String()+"/findings", insp, nil)
				r.json(t, &list)
				for _, f := range list.Items {
					if (kind == "households" && f.HouseholdID != nil && *f.HouseholdID == subject) || (kind == "villages" && f.HouseholdID == nil && f.VillageID == subject) {
						return f
					}
				}
				t.Fatalf("no finding for %s", subject)
				return wire.InspectionFinding{}
			}
			return findingWay{name: name, answers: answers, cadre: cadre, finding: read, refusal: findingRefusal{field: "/answers", reason: "has_open_item"},
				record: func(t *testing.T, a map[string]any) {
					t.Helper()
					if r := e.do(t, "PUT", path, insp, map[string]any{"answers": a}); r.Status != http.StatusCreated {
						t.Fatalf("record: %d %s", r.Status, r.Body)
					}
				},
				correct: func(t *testing.T, a map[string]any) *findingRefusal {
					t.Helper()
					r := e.do(t, "PUT", path, insp, map[string]any{"answers": a, "version": read(t).Version})
					switch r.Status {
					case http.StatusOK:
						return nil
					case http.StatusConflict:
						var ex existingProblem
						r.json(t, &ex)
						p := r.problem(t)
						if len(p.Errors) != 1 || ex.Reason != p.Errors[0].Reason {
							t.Fatalf("want one field error with the problem's reason: %s", r.Body)
						}
						return &findingRefusal{field: p.Errors[0].Field, reason: p.Errors[0].Reason, messageZH: ex.DetailZH, existingID: ex.ExistingID}
					}
					t.Fatalf("correct: %d %s", r.Status, r.Body)
					return nil
				},
				evidence: func(t *testing.T) uuid.UUID { return e.visitBy(t, e.login(t, cadre), evidenceAt, uuid.NewString()) },
			}
		}
		// The phone's push: the findings ride on the inspection visit they
		// were recorded on, and an edit of the visit corrects them.
		visit := uuid.New()
		push := findingWay{name: "the phone's push of the inspection visit", answers: household, cadre: "cadre-a",
			refusal: findingRefusal{field: "/changes/0/data/findings/answers", reason: "has_open_item"},
			finding: func(t *testing.T) wire.InspectionFinding {
				t.Helper()
				f, ok := e.findingOf(t, insp, c.ID, hA)
				if !ok {
					t.Fatal("no finding for household A")
				}
				return f
			},
			record: func(t *testing.T, a map[string]any) {
				t.Helper()
				if r := e.pushOne(t, insp, "inspector-phone", withFindings(visitOn(visit, hA, domain.KindInspection, time.Now().Add(-time.Hour)), a, nil)); r.Status != wire.StatusApplied {
					t.Fatalf("record: %+v", r)
				}
			},
			correct: func(t *testing.T, a map[string]any) *findingRefusal {
				t.Helper()
				// A refusal is the change's, answered in a batch that went
				// through (pushResult: 200).
				got := e.pushOne(t, insp, "inspector-phone", map[string]any{"entity": "visit", "op": "update", "id": visit, "base_version": 1,
					"data": map[string]any{"findings": map[string]any{"answers": a}}})
				switch got.Status {
				case wire.StatusApplied:
					return nil
				case wire.StatusRejected:
					if len(got.Errors) != 1 {
						t.Fatalf("want one error: %+v", got)
					}
					return &findingRefusal{field: got.Errors[0].Field, reason: got.Errors[0].Reason, messageZH: got.Errors[0].MessageZH}
				default:
					t.Fatalf("correct: %+v", got)
				}
				return nil
			},
			evidence: func(t *testing.T) uuid.UUID { return e.visitBy(t, e.login(t, "cadre-a"), hA, uuid.NewString()) },
		}
		ways := []findingWay{
			route("the household findings route", "households", hB, household, "cadre-b", hB),
			route("the village findings route", "villages", e.villageA.ID, village, "cadre-a", hA),
			push,
		}
		responsible := map[string]uuid.UUID{"cadre-a": e.cadreA.ID, "cadre-b": e.cadreB.ID}

		// The cases run in order on each way's finding; first moves its item.
		cases := []struct {
			name    string
			first   string // the item's action before the correction: start, submit, approve (销号)
			answers string // which of the way's answers are sent
			refused bool
		}{
			{"everything in order while the item is open", "", "in order", true},
			{"another problem instead", "", "another", false},
			{"every answer in order, contradicting the cadre's records", "", "discrepancy", false},
			{"everything in order while the item is in progress", "start", "in order", true},
			{"everything in order while the item is submitted", "submit", "in order", true},
			{"everything in order once the item is closed", "approve", "in order", false},
		}
		for _, way := range ways {
			t.Run(way.name, func(t *testing.T) {
				way.record(t, way.answers["problem"])
				finding := way.finding(t)
				item := e.rectify(t, insp, map[string]any{"problem": "督查发现的问题", "campaign_id": c.ID, "finding_id": finding.ID,
					"responsible_user_id": responsible[way.cadre], "deadline": e.daysFromToday(20)})
				itemVersion := int64(1)
				step := func(t *testing.T, tok string, body map[string]any) {
					t.Helper()
					body["version"] = itemVersion
					if r := e.act(t, tok, item.ID, body); r.Status != http.StatusOK {
						t.Fatalf("%s: %d %s", body["action"], r.Status, r.Body)
					}
					itemVersion++
				}
				for _, tc := range cases {
					answers, ok := way.answers[tc.answers]
					if !ok {
						continue // a village's form has no cadre's records to contradict
					}
					t.Run(tc.name, func(t *testing.T) {
						switch tc.first {
						case "start":
							step(t, e.login(t, way.cadre), map[string]any{"action": "start"})
						case "submit":
							step(t, e.login(t, way.cadre), map[string]any{"action": "submit", "evidence": map[string]any{"visit_ids": []uuid.UUID{way.evidence(t)}}})
						case "approve":
							step(t, admin, map[string]any{"action": "approve"})
						}
						before := way.finding(t)
						audits := e.count(t, "audit_log")
						refusal := way.correct(t, answers)
						after := way.finding(t)
						if !tc.refused {
							if refusal != nil {
								t.Fatalf("refused: %+v", *refusal)
							}
							if after.Version != before.Version+1 {
								t.Fatalf("the correction was not recorded: version %d, was %d", after.Version, before.Version)
							}
							return
						}
						if refusal == nil {
							t.Fatal("a correction leaving the finding with nothing to rectify was taken while its item is not closed")
						}
						if refusal.field != way.refusal.field || refusal.reason != way.refusal.reason || !strings.Contains(refusal.messageZH, item.ID.String()) {
							t.Fatalf("want %s at %s, naming item %s in Chinese: %+v", way.refusal.reason, way.refusal.field, item.ID, *refusal)
						}
						if way.name != push.name && refusal.existingID != item.ID {
							t.Fatalf("existing_id %s, want the item %s", refusal.existingID, item.ID)
						}
						if after.Version != before.Version || e.count(t, "audit_log") != audits {
							t.Fatalf("a refused correction was written: version %d, was %d", after.Version, before.Version)
						}
					})
				}
			})
		}
	})
}
