package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/compliance"
)

// benchExitCmd is `fieldvisit bench exit [flags]`: the exit-candidates
// list of a county (GET /api/v1/exit-candidates) as a supervisor pages
// through it. Every page answers total and qualifying over the whole list,
// so its time is what judging the county's registered households costs.
// The county is bench export's (the same loader, by COPY): --households
// households, about 30 % of them registered, each with 0 to 20 visits over
// the last year; half the registered households get an income account of
// the year above the standard, so some qualify. Each round asks the first
// page, then a later page, then the first page again after a write that
// changes a verdict (an income account), timed through the API in this
// process on a warm connection.
func benchExitCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, scratch := newBenchFlags("bench exit", stderr)
	households := fs.Int("households", 35_000, "households of the county (about 30 % registered, each with 0 to 20 visits)")
	rounds := fs.Int("rounds", 5, "rounds, each the first page, a later page, and the first page after a write")
	seed := fs.Uint64("seed", 1, "generator seed")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 || *households < 100 || *rounds < 1 {
		return errors.New("usage: fieldvisit bench exit [--households N] [--rounds N] [--postgres URL]")
	}
	app, dbURL, done, err := scratch.open(ctx, stdout, 1)
	if err != nil {
		return err
	}
	defer done()
	fx := newRulesFixture(*seed, app.Now(), 1, *households, 10)
	fx.visitsOnly = true
	fx.arrivalOrder = true
	if err := fx.load(ctx, dbURL, compliance.Profile{}, stdout); err != nil {
		return err
	}
	registered, err := loadIncomeAccounts(ctx, dbURL, fx)
	if err != nil {
		return err
	}
	if err := analyze(ctx, dbURL); err != nil {
		return err
	}
	if _, _, err := sampleActors(ctx, app, fx); err != nil {
		return err
	}
	token := func() (string, error) {
		tok, err := app.Auth.Login(ctx, "sample-admin", "bench-password-1", "bench", "127.0.0.1", "bench")
		return tok.AccessToken, err
	}
	srv := httptest.NewServer(app.Handler)
	defer srv.Close()
	county := fx.counties[0]
	year := fx.today.Year
	var visits int64
	if err := pgxCount(ctx, dbURL, "SELECT count(*) FROM visits", &visits); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\none county: %d households, %d registered, %d visits; load average before the rounds %s\n\n", *households, len(registered), visits, loadAverage())

	page := func(tok string, offset int) (time.Duration, int64, int64, error) {
		u := fmt.Sprintf("%s/api/v1/exit-candidates?region_id=%s&year=%d&limit=50&offset=%d", srv.URL, county.id, year, offset)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, 0, 0, err
		}
		defer resp.Body.Close()
		var body struct {
			Total      int64
			Qualifying *int64
		}
		err = json.NewDecoder(resp.Body).Decode(&body)
		d := time.Since(start)
		if resp.StatusCode != http.StatusOK {
			return 0, 0, 0, fmt.Errorf("bench exit: offset %d answered %d", offset, resp.StatusCode)
		}
		q := int64(-1) // the count still being judged: the list's first request answers without it
		if body.Qualifying != nil {
			q = *body.Qualifying
		}
		return d, body.Total, q, err
	}
	var first, later, afterWrite, countReady []time.Duration
	for r := 0; r < *rounds; r++ {
		tok, err := token()
		if err != nil {
			return err
		}
		d1, total, q1, err := page(tok, 0)
		if err != nil {
			return err
		}
		// A first page answers before the whole list is judged; the
		// console asks again until the count is there: how long that is.
		var ready time.Duration
		for start := time.Now(); q1 < 0; {
			time.Sleep(100 * time.Millisecond)
			if _, _, q1, err = page(tok, 0); err != nil {
				return err
			}
			ready = time.Since(start)
		}
		d2, _, q2, err := page(tok, len(registered)/2)
		if err != nil {
			return err
		}
		if q1 >= 0 && q2 >= 0 && q1 != q2 {
			return fmt.Errorf("bench exit: the first page counts %d qualifying, a later one %d", q1, q2)
		}
		// A write that changes one verdict: the next first page must see it.
		// The write goes through the store as the service writes it.
		h := registered[r]
		accounts, err := app.Store.IncomeAccountsOf(ctx, []uuid.UUID{h}, year, year)
		if err != nil {
			return err
		}
		a := accounts[h][year]
		a.WagesFen, a.Version = 1, a.Version+1
		if err := app.Store.SaveIncomeAccount(ctx, a, a.Version-1, domain.AuditEntry{}); err != nil {
			return err
		}
		d3, _, q3, err := page(tok, 0)
		if err != nil {
			return err
		}
		first, later, afterWrite = append(first, d1), append(later, d2), append(afterWrite, d3)
		if ready > 0 {
			countReady = append(countReady, ready+d1)
		}
		fmt.Fprintf(stdout, "  round %d: total %d, qualifying %d (there %s after the first page was asked); first page %s, page at %d %s, first page after a write %s (qualifying %d); load %s\n",
			r+1, total, q1, ms(ready+d1), ms(d1), len(registered)/2, ms(d2), ms(d3), q3, loadAverage())
	}
	fmt.Fprintf(stdout, "\n| exit candidates, %d registered households, %d visits (median of %d rounds) | first page | later page | first page after a write |\n|---|---|---|---|\n",
		len(registered), visits, *rounds)
	fmt.Fprintf(stdout, "| GET /api/v1/exit-candidates?limit=50 | %s | %s | %s |\n", ms(medianDuration(first)), ms(medianDuration(later)), ms(medianDuration(afterWrite)))
	for _, d := range countReady {
		fmt.Fprintf(stdout, "\nthe whole list's qualifying count was there %s after a first page was asked, with the list not yet judged", ms(d))
	}
	fmt.Fprintf(stdout, "\n\nload average after %s\n", loadAverage())
	return nil
}

func pgxCount(ctx context.Context, dbURL, query string, n *int64) error {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	return conn.QueryRow(ctx, query).Scan(n)
}

// loadIncomeAccounts gives half the registered households an income
// account of this year above the default standard (the other half have
// none, and fail the income indicator), and returns the registered
// households, those with an account first.
func loadIncomeAccounts(ctx context.Context, dbURL string, fx *rulesFixture) ([]uuid.UUID, error) {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	var with, without []uuid.UUID
	for i, h := range fx.households {
		if h.status != domain.StatusRegistered {
			continue
		}
		if i%2 == 0 {
			with = append(with, h.id)
		} else {
			without = append(without, h.id)
		}
	}
	year := fx.today.Year
	county := fx.counties[0].id
	rows := make([][]any, len(with))
	for i, h := range with {
		id := uuid.NewSHA1(h, []byte(strconv.Itoa(year)))
		rows[i] = []any{county, id, h, year, int64(500_000), int64(0), int64(0), int64(0), int64(0), int64(0), 1, "", 1, fx.now, fx.now}
	}
	_, err = conn.CopyFrom(ctx, pgx.Identifier{"income_accounts"}, []string{"county_id", "id", "household_id", "year", "wages_fen", "business_fen",
		"transfers_fen", "pensions_fen", "property_fen", "costs_fen", "members_counted", "notes", "version", "created_at", "updated_at"}, pgx.CopyFromRows(rows))
	return append(with, without...), err
}
