package printforms

import (
	"context"
	"io"
	"runtime"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/semaphore"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/registry"
	fvsync "github.com/fieldvisit/fieldvisit/sync"
)

// Register is what the forms read of the register (registry.Service); it
// authorises and scopes every read.
type Register interface {
	HouseholdFile(ctx context.Context, p domain.Principal, id uuid.UUID) (registry.HouseholdFile, error)
	Household(ctx context.Context, p domain.Principal, id uuid.UUID) (domain.Household, error)
	Households(ctx context.Context, p domain.Principal, q registry.HouseholdQuery, pg registry.Page) ([]domain.Household, int64, error)
	Region(ctx context.Context, p domain.Principal, id uuid.UUID) (domain.Region, error)
	User(ctx context.Context, p domain.Principal, id uuid.UUID) (domain.User, error)
}

// Visits is what the forms read of the visits (sync.Service): a cadre
// reads their own, a supervisor those in their subtree, an inspector
// those to the households of their tasks.
type Visits interface {
	Visits(ctx context.Context, p domain.Principal, q fvsync.VisitQuery) ([]domain.Visit, int64, error)
}

// Service lays out the printed forms.
type Service struct {
	register Register
	visits   Visits
	casework Casework
	now      func() time.Time
	// bulk admits a village's forms to be laid out: a few at a time.
	bulk *semaphore.Weighted
}

// bulkAtOnce is how many villages' forms are laid out at once. A village
// is seconds of CPU on every core it gets and tens of MB: eight printed
// together took 40 s each and 435 MB, where one at a time each waits its
// turn, and the process's memory stays that of a few.
var bulkAtOnce = int64(max(runtime.GOMAXPROCS(0), 2))

// New builds the service. casework may be nil until the casework records
// exist: the forms' plan and income sections then say 暂无记录.
func New(register Register, visits Visits, casework Casework, now func() time.Time) *Service {
	if casework == nil {
		casework = NoCasework{}
	}
	if now == nil {
		now = time.Now
	}
	return &Service{register: register, visits: visits, casework: casework, now: now, bulk: semaphore.NewWeighted(bulkAtOnce)}
}

// inTurn runs write when a bulk slot is free (FIFO), waiting no longer than
// its request: a client that gives up leaves the queue and nothing is laid
// out for it.
func (s *Service) inTurn(ctx context.Context, write func(io.Writer) error) func(io.Writer) error {
	return func(w io.Writer) error {
		if err := s.bulk.Acquire(ctx, 1); err != nil {
			return err
		}
		defer s.bulk.Release(1)
		return write(w)
	}
}

// Download is a form ready to be written: the request was checked and
// authorised when it was made, so an error from Write can only cut the
// stream short.
type Download struct {
	Filename    string
	ContentType string
	Write       func(w io.Writer) error
}

const (
	contentTypePDF = "application/pdf"
	contentTypeZIP = "application/zip"
)

// The household forms, by the name their route uses.
const (
	FormRecordCard = "record-card" // 帮扶记录卡: the visits over time
	FormClearCard  = "clear-card"  // 明白卡: household, members, cadres, policies, plan and income
	FormFile       = "file"        // 一户一档: everything
)

// formTitles are the forms' printed names.
var formTitles = map[string]string{
	FormRecordCard: "帮扶记录卡",
	FormClearCard:  "精准扶贫明白卡",
	FormFile:       "一户一档",
}

// formOf checks a form name from a route; an unknown one is not found.
func formOf(form string) (string, error) {
	if _, ok := formTitles[form]; !ok {
		return "", domain.NotFound("form")
	}
	return form, nil
}
