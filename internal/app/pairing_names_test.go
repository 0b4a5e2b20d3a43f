package app

import (
	"encoding/json"
	"maps"
	"net/http"
	"testing"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/wire"
)

// pulledPairings maps each pairing a pull left standing to its data as
// sent (a tombstone removes it).
func pulledPairings(changes []wire.PulledChange) map[uuid.UUID]string {
	out := map[uuid.UUID]string{}
	for _, c := range changes {
		if c.Entity != wire.EntityPairing {
			continue
		}
		if c.Op == wire.OpDelete {
			delete(out, c.ID)
			continue
		}
		out[c.ID] = string(c.Data)
	}
	return out
}

// pairingCadre reads the cadre a pulled pairing names.
func pairingCadre(t *testing.T, data string) (name, phone string) {
	t.Helper()
	var p wire.PairingRecord
	if err := json.Unmarshal([]byte(data), &p); err != nil {
		t.Fatalf("a pulled pairing does not decode: %v\n%s", err, data)
	}
	return p.CadreName, p.CadrePhone
}

// TestPulledPairingsNameTheirCadre: a phone names whoever is paired with
// its households — the cadre themselves and a colleague paired with the
// same household — from the pairing alone: each pulled pairing carries
// its cadre's name and phone (what the household's 明白卡 prints), the
// same in the snapshot, the paged walk and the feed. A cadre renamed later
// reaches the phones holding their pairings with the next pull.
func TestPulledPairingsNameTheirCadre(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		tok := e.login(t, "cadre-a")
		_, cursor := e.pullAll(t, tok, "", 50)

		// A colleague is paired with the same household after the phone's
		// first sync: the pairing reaches it through the feed.
		sup := e.login(t, "supervisor-a")
		var colleague wire.User
		if r := e.do(t, "POST", "/api/v1/users", sup, map[string]any{"username": "cadre-a3", "display_name": "赵三", "phone": "13800138000",
			"role": "cadre", "region_id": e.villageA.ID, "password": testPassword}); r.Status != http.StatusCreated {
			t.Fatalf("create the colleague: %d %s", r.Status, r.Body)
		} else {
			r.json(t, &colleague)
		}
		var shared wire.Pairing
		if r := e.do(t, "POST", "/api/v1/pairings", sup, map[string]any{"household_id": e.householdA.Household.ID, "cadre_id": colleague.ID}); r.Status != http.StatusCreated {
			t.Fatalf("pair the colleague: %d %s", r.Status, r.Body)
		} else {
			r.json(t, &shared)
		}
		fed, cursor := e.pullAll(t, tok, cursor, 50)
		feed := pulledPairings(fed)

		r := e.do(t, "GET", "/api/v1/sync/snapshot?limit=500", tok, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("snapshot: %d %s", r.Status, r.Body)
		}
		var snap wire.PullResponse
		r.json(t, &snap)
		paged, _ := e.pullAll(t, tok, "", 1) // every page boundary crossed
		whole, _ := e.pullAll(t, tok, "", 500)
		reads := map[string]map[uuid.UUID]string{"snapshot": pulledPairings(snap.Changes), "paged by 1": pulledPairings(paged), "paged by 500": pulledPairings(whole)}

		for _, tc := range []struct {
			who         string
			pairing     uuid.UUID
			name, phone string
			reachedFeed bool
		}{
			{"the cadre themselves", e.pairingA.ID, "cadre-a", "", false},
			{"the colleague paired after the first sync", shared.ID, "赵三", "13800138000", true},
		} {
			for how, got := range reads {
				data, ok := got[tc.pairing]
				if !ok {
					t.Errorf("%s: the %s lacks the pairing of %s", tc.who, how, tc.who)
					continue
				}
				if name, phone := pairingCadre(t, data); name != tc.name || phone != tc.phone {
					t.Errorf("%s: the %s names %q %q, want %q %q", tc.who, how, name, phone, tc.name, tc.phone)
				}
				if tc.reachedFeed && data != feed[tc.pairing] {
					t.Errorf("%s: the %s and the feed send the pairing differently:\n%s\n%s", tc.who, how, data, feed[tc.pairing])
				}
			}
		}
		if !maps.Equal(reads["snapshot"], reads["paged by 1"]) || !maps.Equal(reads["snapshot"], reads["paged by 500"]) {
			t.Errorf("the snapshot and the paged walks send pairings differently:\n%v\n%v\n%v", reads["snapshot"], reads["paged by 1"], reads["paged by 500"])
		}

		// Renamed, the colleague reaches the phone with its next pull; an
		// edit that leaves name and phone alone puts nothing in the feed.
		if r := e.do(t, "PATCH", "/api/v1/users/"+colleague.ID.String(), sup, map[string]any{"display_name": "赵山", "phone": "13900139000"}); r.Status != http.StatusOK {
			t.Fatalf("rename the colleague: %d %s", r.Status, r.Body)
		}
		renamed, cursor := e.pullAll(t, tok, cursor, 50)
		data, ok := pulledPairings(renamed)[shared.ID]
		if !ok {
			t.Fatalf("the rename did not reach the phone: %+v", renamed)
		}
		if name, phone := pairingCadre(t, data); name != "赵山" || phone != "13900139000" {
			t.Errorf("after the rename the phone names %q %q, want 赵山 13900139000", name, phone)
		}
		if r := e.do(t, "PATCH", "/api/v1/users/"+colleague.ID.String(), sup, map[string]any{"rank": "staff"}); r.Status != http.StatusOK {
			t.Fatalf("set the colleague's rank: %d %s", r.Status, r.Body)
		}
		quiet, cursor := e.pullAll(t, tok, cursor, 50)
		if len(pulledPairings(quiet)) != 0 {
			t.Errorf("an edit of the rank sent pairings again: %+v", quiet)
		}

		// Renamed, the cadre themselves gets their own pairing again with
		// the new name, and not its household: a rename changes no
		// household, and the phone holds them all already.
		if r := e.do(t, "PATCH", "/api/v1/users/"+e.pairingA.CadreID.String(), sup, map[string]any{"display_name": "甲干部"}); r.Status != http.StatusOK {
			t.Fatalf("rename the cadre: %d %s", r.Status, r.Body)
		}
		own, _ := e.pullAll(t, tok, cursor, 50)
		if data, ok := pulledPairings(own)[e.pairingA.ID]; !ok {
			t.Errorf("the cadre's own rename did not reach their phone: %+v", own)
		} else if name, _ := pairingCadre(t, data); name != "甲干部" {
			t.Errorf("after their rename the phone names the cadre %q, want 甲干部", name)
		}
		for _, c := range own {
			if c.Entity == wire.EntityHousehold || c.Entity == wire.EntityMember {
				t.Errorf("the cadre's rename sent their %s %s again", c.Entity, c.ID)
			}
		}
	})
}
