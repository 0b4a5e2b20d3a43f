package importer_test

import (
	"fmt"
	"testing"
	"time"
)

func TestScratchBig(t *testing.T) {
	var rows [][]string
	n := 0
	for h := 0; h < 20000; h++ {
		for m := 0; m < 3; m++ {
			n++
			r := oneHousehold(fmt.Sprintf("B%06d", h), fmt.Sprintf("户%d", h), idNum(fmt.Sprintf("19%02d0101", 50+h%40), fmt.Sprintf("%03d", n%1000)))
			r[cCadre] = fmt.Sprintf("干部%d", h%500)
			if m > 0 {
				r[cRelation], r[cName] = "之子", fmt.Sprintf("子%d-%d", h, m)
			}
			rows = append(rows, r)
		}
	}
	// make ids unique: vary birthday by n
	for i, r := range rows {
		d := time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i/1000)
		r[cID] = idNum(d.Format("20060102"), fmt.Sprintf("%03d", i%1000))
	}
	b := writeCSV(t, sampleHeader, rows)
	for _, d := range dialects[:1] {
		e := newEnv(t, d.url(t))
		start := time.Now()
		rep := e.run(t, b)
		t.Logf("%s first: %v errors=%d hh=%+v m=%+v c=%+v", d.name, time.Since(start), len(rep.Errors), rep.Households, rep.Members, rep.Cadres)
		if len(rep.Errors) > 0 {
			t.Log(rep.Errors[:3])
		}
		start = time.Now()
		rep = e.run(t, b)
		t.Logf("%s again: %v hh=%+v", d.name, time.Since(start), rep.Households)
	}
}
