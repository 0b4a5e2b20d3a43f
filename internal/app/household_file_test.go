package app

import (
	"net/http"
	"testing"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/wire"
)

// TestHouseholdFileListsEveryPairing: the household file (一户一档) keeps
// `pairings` as the open ones, each naming its cadre with the phone to
// call as `pairing_history` does, and lists in `pairing_history` every
// cadre the household has had, oldest first, the ended pairing with its
// last day and the reason it was handed over.
func TestHouseholdFileListsEveryPairing(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		var cadreC wire.User
		if r := e.do(t, "POST", "/api/v1/users", e.login(t, "supervisor-a"), map[string]any{"username": "cadre-c", "display_name": "钱七", "phone": "13900139007",
			"role": domain.RoleCadre, "region_id": e.villageA.ID, "password": testPassword}); r.Status != http.StatusCreated {
			t.Fatalf("create cadre C: %d %s", r.Status, r.Body)
		} else {
			r.json(t, &cadreC)
		}
		r := e.do(t, "POST", "/api/v1/pairings/"+e.pairingA.ID.String()+"/end", e.login(t, "admin"),
			map[string]any{"reason": "工作调动", "new_cadre_id": cadreC.ID})
		if r.Status != http.StatusOK {
			t.Fatalf("hand household A to cadre C: %d %s", r.Status, r.Body)
		}
		var handed wire.EndedPairing
		r.json(t, &handed)
		today := domain.DateOf(e.app.Now())
		path := "/api/v1/households/" + e.householdA.Household.ID.String()
		for _, who := range []string{"supervisor-a", "cadre-c", "admin"} {
			var f wire.HouseholdFile
			r := e.do(t, "GET", path, e.login(t, who), nil)
			if r.Status != http.StatusOK {
				t.Fatalf("%s reads the file: %d %s", who, r.Status, r.Body)
			}
			r.json(t, &f)
			if len(f.Pairings) != 1 || f.Pairings[0].ID != handed.Next.ID || f.Pairings[0].CadreID != cadreC.ID ||
				f.Pairings[0].CadreName != "钱七" || f.Pairings[0].CadrePhone != "13900139007" {
				t.Errorf("%s: open pairings %+v, want only cadre C's, naming 钱七 and 13900139007", who, f.Pairings)
			}
			if len(f.PairingHistory) != 2 {
				t.Fatalf("%s: pairing history %+v, want cadre A's and cadre C's", who, f.PairingHistory)
			}
			ended, open := f.PairingHistory[0], f.PairingHistory[1]
			if ended.ID != e.pairingA.ID || ended.CadreID != e.cadreA.ID || ended.CadreName != "cadre-a" ||
				ended.EndOn == nil || *ended.EndOn != today || ended.EndReason != "工作调动" || ended.StartOn != e.pairingA.StartOn {
				t.Errorf("%s: the ended pairing reads %+v", who, ended)
			}
			if open.ID != handed.Next.ID || open.CadreName != "钱七" || open.CadrePhone != "13900139007" || open.EndOn != nil || open.StartOn != today {
				t.Errorf("%s: the open pairing reads %+v", who, open)
			}
		}
	})
}
