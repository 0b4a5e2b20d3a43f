package compliance

import (
	"context"
	"encoding/json"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/compliance/rules"
)

// DefaultProfileCode judges every region no profile is attached to.
const DefaultProfileCode = "default"

// Service is the compliance side of the service.
type Service struct {
	port  Store   // begins transactions
	store TxStore // what the methods use: the port, or the transaction of inTx
	now   func() time.Time
	log   *slog.Logger
	kick  chan struct{}
	// spillDir is where the XLSX exports' rows wait past 16 MB (SpillTo).
	spillDir string
}

// NewService builds the service.
func NewService(store Store, now func() time.Time, log *slog.Logger) *Service {
	return &Service{port: store, store: store, now: now, log: log, kick: make(chan struct{}, 1)}
}

// SpillTo names the directory where excelize's temporary files go (""
// is the system's): the server gives its own, which serve empties at
// start and checks is writable.
func (s *Service) SpillTo(dir string) { s.spillDir = dir }

// inTx runs fn with a copy of the service whose every read and write joins
// one transaction.
func (s *Service) inTx(ctx context.Context, fn func(in *Service) error) error {
	return s.port.Tx(ctx, func(tx TxStore) error {
		in := *s
		in.store = tx
		return fn(&in)
	})
}

func (s *Service) today() domain.Date { return domain.DateOf(s.now()) }

// Kicked fires when work was queued through this service (a profile saved).
func (s *Service) Kicked() <-chan struct{} { return s.kick }

func (s *Service) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Profile is a stored profile with its rules.
type Profile struct {
	rules.Profile
	Builtin   bool
	UpdatedAt time.Time
}

func decodeProfile(sp StoredProfile) (Profile, error) {
	var p rules.Profile
	if err := json.Unmarshal(sp.Body, &p); err != nil {
		return Profile{}, err
	}
	p.Code, p.NameZH, p.Version = sp.Code, sp.NameZH, sp.Version
	return Profile{Profile: p, Builtin: sp.Builtin, UpdatedAt: sp.UpdatedAt}, nil
}

// EnsureProfiles stores the ready profiles (DESIGN §6 defaults and the
// seeds' alternatives) the first time the service starts on a database.
// A ready profile no admin has saved then follows this build's wording
// (followWording); its rules never change under a county unless an admin
// saves them.
func (s *Service) EnsureProfiles(ctx context.Context) error {
	var ps []StoredProfile
	for _, p := range rules.Profiles() {
		body, err := json.Marshal(p)
		if err != nil {
			return err
		}
		ps = append(ps, StoredProfile{Code: p.Code, NameZH: p.NameZH, Body: body, Builtin: true})
	}
	if err := s.store.EnsureRuleProfiles(ctx, ps, s.now()); err != nil {
		return err
	}
	for _, p := range ps {
		if err := s.followWording(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

// followWording saves a ready profile's text as this build writes it (its
// names, citations and design notes; the full-width punctuation of the
// build of 2026-12-07, say) as the stored profile's next version, when no
// admin has saved the profile and the two differ in their Chinese text
// alone. What it judged is judged again, as after an admin's save; closed
// periods keep what they said. Replicas starting together race for the
// version: the one that loses finds it saved.
func (s *Service) followWording(ctx context.Context, built StoredProfile) error {
	stored, err := s.store.RuleProfile(ctx, built.Code)
	if err != nil {
		return err
	}
	if !stored.Builtin || stored.UpdatedBy != nil {
		return nil
	}
	reworded, err := wordingOnly(stored.Body, built.Body)
	if err != nil || !reworded {
		return err
	}
	_, err = s.store.SaveRuleProfile(ctx, StoredProfile{Code: built.Code, NameZH: built.NameZH, Body: built.Body}, stored.Version,
		s.rejudgedYears(), s.now(), domain.AuditEntry{ActorName: "fieldvisit", Action: "update", ObjectType: "rule_profile", ObjectID: built.Code,
			Detail: map[string]any{"version": stored.Version + 1, "reason": "wording"}})
	if domain.Reason(err) == "stale_version" {
		return nil
	}
	if err == nil {
		s.wake()
	}
	return err
}

// rejudgedYears are the years in which a profile's change (an admin's
// save, its build's wording, a region's reassignment) queues the subjects
// it judged to be judged again: this year and last.
func (s *Service) rejudgedYears() []int {
	y := s.today().Year
	return []int{y - 1, y}
}

// wordingOnly reports whether two profile bodies differ, and in Chinese
// text only: with every string that holds a Han character blanked they
// are the same. Codes, kinds, statuses and numbers are never Chinese.
func wordingOnly(a, b []byte) (bool, error) {
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		return false, err
	}
	if err := json.Unmarshal(b, &y); err != nil {
		return false, err
	}
	if reflect.DeepEqual(x, y) {
		return false, nil
	}
	return reflect.DeepEqual(blankChinese(x), blankChinese(y)), nil
}

func blankChinese(v any) any {
	switch t := v.(type) {
	case string:
		if strings.ContainsFunc(t, func(r rune) bool { return unicode.Is(unicode.Han, r) }) {
			return ""
		}
	case []any:
		for i := range t {
			t[i] = blankChinese(t[i])
		}
	case map[string]any:
		for k, e := range t {
			t[k] = blankChinese(e)
		}
	}
	return v
}

// Profiles lists the profiles; anyone signed in may read the rules they are
// judged by.
func (s *Service) Profiles(ctx context.Context) ([]Profile, error) {
	sps, err := s.store.RuleProfiles(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Profile, 0, len(sps))
	for _, sp := range sps {
		p, err := decodeProfile(sp)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// GetProfile returns one profile.
func (s *Service) GetProfile(ctx context.Context, code string) (Profile, error) {
	sp, err := s.store.RuleProfile(ctx, code)
	if err != nil {
		return Profile{}, err
	}
	return decodeProfile(sp)
}

var profileCode = func(code string) bool {
	if len(code) < 2 || len(code) > 40 {
		return false
	}
	for _, r := range code {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// SaveProfile creates (expectedVersion 0) or replaces a profile; only
// admins change rules. Everything already judged by it is judged again.
func (s *Service) SaveProfile(ctx context.Context, p domain.Principal, code string, prof rules.Profile, expectedVersion int) (Profile, error) {
	if p.Role != domain.RoleAdmin {
		return Profile{}, domain.Forbidden()
	}
	var fe domain.FieldErrors
	if !profileCode(code) {
		fe.Add("/code", "invalid_format", "code must be 2–40 lowercase letters, digits, '-' or '_'", "方案代码应为2至40位小写字母、数字、-或_")
	}
	if expectedVersion < 0 {
		fe.Add("/version", "out_of_range", "version must be 0 (new) or the version being replaced", "版本号无效")
	}
	if err := fe.Err(); err != nil {
		return Profile{}, err
	}
	prof.Code = code
	if err := prof.Validate(); err != nil {
		return Profile{}, err
	}
	body, err := json.Marshal(prof)
	if err != nil {
		return Profile{}, err
	}
	by := p.UserID
	sp, err := s.store.SaveRuleProfile(ctx, StoredProfile{Code: code, NameZH: prof.NameZH, Body: body, UpdatedBy: &by},
		expectedVersion, s.rejudgedYears(), s.now(), domain.AuditEntry{ActorID: &by, ActorName: p.Username, Action: "update",
			ObjectType: "rule_profile", ObjectID: code, RequestID: p.RequestID, Detail: map[string]any{"version": expectedVersion + 1}})
	if err != nil {
		return Profile{}, err
	}
	s.wake()
	return decodeProfile(sp)
}

// Assignment is the profile a region is judged by and where it comes from.
type Assignment struct {
	Region      domain.Region
	Profile     Profile
	Own         bool           // attached to this region itself
	InheritedBy *domain.Region // the region it is inherited from, when not own
}

// RegionProfile tells which profile judges a region the caller can see.
func (s *Service) RegionProfile(ctx context.Context, p domain.Principal, regionID uuid.UUID) (Assignment, error) {
	r, err := s.visibleRegion(ctx, p, regionID)
	if err != nil {
		return Assignment{}, err
	}
	code, from, err := s.profileFor(ctx, r.Path)
	if err != nil {
		return Assignment{}, err
	}
	prof, err := s.GetProfile(ctx, code)
	if err != nil {
		return Assignment{}, err
	}
	a := Assignment{Region: r, Profile: prof, Own: from == r.ID}
	if !a.Own && from != uuid.Nil {
		src, err := s.store.Region(ctx, from)
		if err != nil {
			return Assignment{}, err
		}
		a.InheritedBy = &src
	}
	return a, nil
}

// AssignProfile attaches a profile to a county or town (code "" detaches
// it); only admins do, and the region's households are judged again.
func (s *Service) AssignProfile(ctx context.Context, p domain.Principal, regionID uuid.UUID, code string) (Assignment, error) {
	if p.Role != domain.RoleAdmin {
		return Assignment{}, domain.Forbidden()
	}
	r, err := s.visibleRegion(ctx, p, regionID)
	if err != nil {
		return Assignment{}, err
	}
	if r.Level != domain.LevelCounty && r.Level != domain.LevelTown {
		return Assignment{}, domain.Invalid(domain.FieldError{Field: "/region_id", Reason: "invalid_level",
			Message: "profiles attach to counties and towns", MessageZH: "规则方案只能设置在县或乡镇"})
	}
	if code != "" {
		if _, err := s.store.RuleProfile(ctx, code); domain.IsCode(err, domain.CodeNotFound) {
			return Assignment{}, domain.Invalid(domain.FieldError{Field: "/profile_code", Reason: "unknown", Message: "no such profile", MessageZH: "规则方案不存在"})
		} else if err != nil {
			return Assignment{}, err
		}
	}
	by := p.UserID
	err = s.store.AssignRuleProfile(ctx, r, code, s.rejudgedYears(), s.now(), domain.AuditEntry{ActorID: &by, ActorName: p.Username,
		Action: "update", ObjectType: "region_rule_profile", ObjectID: r.ID.String(), RegionPath: r.Path, RequestID: p.RequestID,
		Detail: map[string]any{"profile_code": code}})
	if err != nil {
		return Assignment{}, err
	}
	s.wake()
	return s.RegionProfile(ctx, p, regionID)
}

func (s *Service) visibleRegion(ctx context.Context, p domain.Principal, id uuid.UUID) (domain.Region, error) {
	return s.store.RegionWithin(ctx, p.RegionPath, id)
}

// pathIDs splits "/a/b/c/" into its ids, top first.
func pathIDs(path string) []uuid.UUID {
	var out []uuid.UUID
	for _, part := range strings.Split(strings.Trim(path, "/"), "/") {
		if id, err := uuid.Parse(part); err == nil {
			out = append(out, id)
		}
	}
	return out
}

// profileFor resolves the profile of a path: the deepest attached region
// wins (a town's own over its county's); none means the default.
func (s *Service) profileFor(ctx context.Context, path string) (code string, from uuid.UUID, err error) {
	attached, err := s.store.RegionProfiles(ctx, pathIDs(path))
	if err != nil {
		return "", uuid.Nil, err
	}
	code, from = resolveAttached(attached, path)
	return code, from, nil
}

func resolveAttached(attached map[uuid.UUID]string, path string) (string, uuid.UUID) {
	for _, id := range slices.Backward(pathIDs(path)) {
		if c, ok := attached[id]; ok {
			return c, id
		}
	}
	return DefaultProfileCode, uuid.Nil
}

func resolveProfile(attached map[uuid.UUID]string, path string) string {
	code, _ := resolveAttached(attached, path)
	return code
}

// townOfPath is townOf for a subject queued without a county (a cadre's
// or a unit's duties are queued by the person, not the place): the
// county is that of the region path's last region. Reports count by town,
// and a status with no town is shown as a duty of no village.
func (s *Service) townOfPath(ctx context.Context, path string, county uuid.UUID) (*uuid.UUID, error) {
	ids := pathIDs(path)
	if county == uuid.Nil && len(ids) > 0 {
		r, err := s.store.Region(ctx, ids[len(ids)-1])
		if err != nil {
			return nil, err
		}
		county = countyOf(r)
	}
	return townOf(path, county), nil
}

// countyOf is the county a region lies in, nil above county level.
func countyOf(r domain.Region) uuid.UUID {
	if r.CountyID == nil {
		return uuid.Nil
	}
	return *r.CountyID
}

// townOf finds the town in a path: the region right below the county.
func townOf(path string, county uuid.UUID) *uuid.UUID {
	ids := pathIDs(path)
	for i, id := range ids {
		if id == county && i+1 < len(ids) {
			t := ids[i+1]
			return &t
		}
	}
	return nil
}
