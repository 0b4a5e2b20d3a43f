package importer

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// usernameLike is domain's username rule: a 帮扶责任人 cell that matches it is
// a username, anything else a display name.
var usernameLike = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{2,39}$`)

// cadreRef is one value of the 帮扶责任人 column: an existing cadre, or one
// the import creates.
type cadreRef struct {
	value   string
	account string // the 帮扶责任人账号 that names them exactly ("" when the row gives none)
	phone   string // the 帮扶责任人电话 given with it, digits only ("" none)
	hhs     []*household
	user    *domain.User // an existing cadre
	newUser *NewUser     // a cadre to create
	newUnit *unitRef     // the unit to create with them, if new
	used    bool         // a household that is written is paired with them
	// pairedOnly, when set, is why user may not be paired with a household
	// that is not paired with them already: they are deactivated, or
	// outside the importer's subtree. A household whose open pairing with
	// them is stored keeps it (its export names them); any other is
	// refused for it (checkPairedOnly).
	pairedOnly *cadreRefusal
}

// cadreRefusal is a problem at column at of the rows naming a cadre.
type cadreRefusal struct {
	at                 col
	reason, msg, msgZH string
}

type unitRef struct {
	unit  domain.Unit
	isNew bool
}

func (c *cadreRef) id() uuid.UUID {
	if c.user != nil {
		return c.user.ID
	}
	return c.newUser.User.ID
}

// resolveCadres finds each 帮扶责任人 among the cadres in the actor's subtree,
// by username or display name, and plans the cadres that do not exist yet.
//
// A row with a 帮扶责任人账号 (the export writes it) names the cadre by that
// username and nothing else: a display name may be shared, or look like
// another cadre's username (resolveAccounts). A row that names by name
// only the person the file names by account is that cadre (joinAccounts).
//
// A name is a person together with the 帮扶责任人电话 beside it: two people
// of one name (张伟 is common) with two phones are two cadres, in the file
// and among the users — two new ones are created, an existing one is told
// by their phone — never one account holding both people's households. A
// row that leaves the phone out is the one person of that name the file
// gives a phone for, when there is exactly one.
func (r *run) resolveCadres() error {
	refs := map[[2]string]*cadreRef{}
	var order []*cadreRef
	byAccount := map[string]*cadreRef{}
	var accounts []*cadreRef
	for _, hh := range r.hhs {
		if a := hh.val[colCadreAccount]; a != "" && hh.village != nil {
			ref := byAccount[a]
			if ref == nil {
				ref = &cadreRef{value: hh.val[colCadre], account: a, phone: digitsOf(hh.at(colCadrePhone).cadrePhone)}
				byAccount[a] = ref
				accounts = append(accounts, ref)
			}
			ref.hhs = append(ref.hhs, hh)
			hh.cadre = ref
			continue
		}
		v := hh.val[colCadre]
		if v == "" || hh.village == nil {
			continue
		}
		phone := digitsOf(hh.at(colCadrePhone).cadrePhone)
		key := [2]string{v, phone}
		ref := refs[key]
		if ref == nil {
			ref = &cadreRef{value: v, phone: phone}
			refs[key] = ref
			order = append(order, ref)
		}
		ref.hhs = append(ref.hhs, hh)
		hh.cadre = ref
	}
	order = r.joinAccounts(order, accounts)
	order = foldPhoneless(order)
	if len(order) == 0 && len(accounts) == 0 {
		return nil
	}
	people := map[string]int{} // refs by name: more than one tells people apart by phone
	for _, ref := range order {
		people[ref.value]++
	}
	for _, ref := range accounts {
		// A person the file names by account is one more of their name:
		// a row with another phone is someone else.
		for v := range ref.names() {
			people[v]++
		}
	}
	var usernames, displayNames []string
	candidates := map[*cadreRef][]string{}
	for _, ref := range accounts {
		usernames = append(usernames, ref.account)
	}
	for _, ref := range order {
		if usernameLike.MatchString(ref.value) {
			usernames = append(usernames, ref.value)
			continue
		}
		displayNames = append(displayNames, ref.value)
		candidates[ref] = usernameCandidates(ref)
		usernames = append(usernames, candidates[ref]...)
	}
	users, err := r.store.ImportUsers(r.ctx, usernames, r.opt.Actor.RegionPath, displayNames)
	if err != nil {
		return err
	}
	taken := map[string]bool{}
	byUsername := map[string]domain.User{}
	byDisplay := map[string][]domain.User{}
	for _, u := range users {
		taken[u.Username] = true
		byUsername[u.Username] = u
		if u.Role == domain.RoleCadre && r.opt.Actor.InSubtree(u.RegionPath) {
			byDisplay[u.DisplayName] = append(byDisplay[u.DisplayName], u)
		}
	}
	fresh := r.resolveAccounts(accounts, byUsername, candidates)
	for _, ref := range order {
		if usernameLike.MatchString(ref.value) {
			if u, ok := byUsername[ref.value]; ok {
				r.takeUser(ref, u, colCadre, ref.value)
			} else {
				r.failRef(ref, colCadre, "unknown_cadre", fmt.Sprintf("there is no user %q in your region", ref.value),
					fmt.Sprintf("您管辖范围内没有用户名为「%s」的用户", ref.value))
			}
			continue
		}
		if ref.phone == "" && people[ref.value] > 1 {
			// The people of the name are those the file gives phones for;
			// users of the name with none of those phones are said apart.
			inFile := map[string]bool{}
			for _, o := range order {
				if o.value == ref.value && o.phone != "" {
					inFile[o.phone] = true
				}
			}
			others := 0
			for _, u := range byDisplay[ref.value] {
				if !inFile[digitsOf(u.Phone)] {
					others++
				}
			}
			msg := fmt.Sprintf("the file names %d people %q with different phones", len(inFile), ref.value)
			msgZH := fmt.Sprintf("文件中有%d名不同电话的帮扶责任人都叫「%s」", len(inFile), ref.value)
			if others > 0 {
				msg += fmt.Sprintf(", and the system already has %d other cadre(s) of that name", others)
				msgZH += fmt.Sprintf("，系统中另有%d名同名帮扶干部", others)
			}
			r.failRef(ref, colCadre, "ambiguous_cadre", msg+"; give this row's 帮扶责任人电话", msgZH+"，请填写本行的帮扶责任人电话")
			continue
		}
		matches := byDisplay[ref.value]
		if people[ref.value] > 1 || len(matches) > 1 && ref.phone != "" {
			// One person of the name in the file whose phone no user has
			// stays ambiguous among the users; of several in the file, one
			// no user's phone matches is a new cadre.
			if narrowed := withPhone(matches, ref.phone); len(narrowed) > 0 || people[ref.value] > 1 {
				matches = narrowed
			}
		}
		switch len(matches) {
		case 0:
			fresh = append(fresh, ref)
		case 1:
			r.takeUser(ref, matches[0], colCadre, ref.value)
		default:
			names := make([]string, len(matches))
			for i, u := range matches {
				names[i] = u.Username
			}
			sort.Strings(names)
			list := strings.Join(names, ", ")
			r.failRef(ref, colCadre, "ambiguous_cadre", fmt.Sprintf("%d cadres are named %q (%s); write the username instead", len(matches), ref.value, list),
				fmt.Sprintf("有%d名帮扶干部都叫「%s」（用户名：%s），请改填用户名", len(matches), ref.value, list))
		}
	}
	if err := r.planNewCadres(fresh, candidates, taken); err != nil {
		return err
	}
	r.warnAccountNames(accounts)
	return nil
}

// joinAccounts makes each 帮扶责任人 the file names without an account the
// cadre it names by account under that name, when that is the one person
// the row can mean: an office names a cadre by account on the rows the
// register export wrote and by name on the rows it added, and means one
// person (one cadre, whether their account exists yet or is created).
//
// The people of a name are the accounts the file gives it to and the
// phones it gives it with elsewhere. A row with a phone is the account
// whose rows give that phone, else another person (told as before, among
// the users). A row without one is the account when that is the only
// person of the name in the file; when there are more it is refused at
// 帮扶责任人, never guessed. A 帮扶责任人 that looks like a username is the
// account of that username. It returns the references left to resolve.
func (r *run) joinAccounts(order, accounts []*cadreRef) []*cadreRef {
	if len(accounts) == 0 {
		return order
	}
	byName := map[string][]*cadreRef{}
	byUsername := map[string]*cadreRef{}
	phonesOf := map[*cadreRef]map[string]bool{} // once per account, not per name-only row that asks
	for _, a := range accounts {
		byUsername[a.account] = a
		phonesOf[a] = a.phones()
		for v := range a.names() {
			byName[v] = append(byName[v], a)
		}
	}
	join := func(ref, to *cadreRef) {
		for _, hh := range ref.hhs {
			hh.cadre = to
		}
		to.hhs = append(to.hhs, ref.hhs...)
	}
	others := map[string][]string{} // phones of a name that are no account's
	out := order[:0]
	var phoneless []*cadreRef
	for _, ref := range order {
		if usernameLike.MatchString(ref.value) {
			if a := byUsername[ref.value]; a != nil {
				join(ref, a)
				continue
			}
			out = append(out, ref)
			continue
		}
		if len(byName[ref.value]) == 0 {
			out = append(out, ref)
			continue
		}
		if ref.phone == "" {
			phoneless = append(phoneless, ref)
			continue
		}
		var same []*cadreRef
		for _, a := range byName[ref.value] {
			if phonesOf[a][ref.phone] {
				same = append(same, a)
			}
		}
		switch len(same) {
		case 0:
			others[ref.value] = append(others[ref.value], ref.phone)
			out = append(out, ref)
		case 1:
			join(ref, same[0])
		default:
			r.refuseUnsure(ref, same, nil)
		}
	}
	for _, ref := range phoneless {
		named := byName[ref.value]
		if len(named) == 1 && len(others[ref.value]) == 0 {
			join(ref, named[0])
			continue
		}
		r.refuseUnsure(ref, named, others[ref.value])
	}
	return out
}

// refuseUnsure fails the rows of ref, a 帮扶责任人 named without an account,
// that could be any of the accounts (or the people of phones) the file
// gives that name: the row must say which.
func (r *run) refuseUnsure(ref *cadreRef, accounts []*cadreRef, phones []string) {
	names := make([]string, len(accounts))
	for i, a := range accounts {
		names[i] = a.account
	}
	sort.Strings(names)
	who, whoZH := "accounts "+strings.Join(names, ", "), r.head(colCadreAccount)+"："+strings.Join(names, "、")
	if len(phones) > 0 {
		who += "; phones " + strings.Join(phones, ", ")
		whoZH += "；" + r.head(colCadrePhone) + "：" + strings.Join(phones, "、")
	}
	n := len(accounts) + len(phones)
	r.failRef(ref, colCadre, "ambiguous_cadre",
		fmt.Sprintf("the file names %d people %q (%s); give this row's 帮扶责任人账号 to say which", n, ref.value, who),
		fmt.Sprintf("文件中有%d名帮扶责任人都叫「%s」（%s），本行无法确定是哪一位；请填写本行的%s", n, ref.value, whoZH, r.head(colCadreAccount)))
}

// names are the 帮扶责任人 the rows of an account give it.
func (c *cadreRef) names() map[string]bool {
	out := map[string]bool{}
	for _, hh := range c.hhs {
		if v := hh.val[colCadre]; v != "" && hh.val[colCadreAccount] == c.account {
			out[v] = true
		}
	}
	return out
}

// phones are the 帮扶责任人电话 the rows of an account give it, digits only.
func (c *cadreRef) phones() map[string]bool {
	out := map[string]bool{}
	for _, hh := range c.hhs {
		if p := digitsOf(hh.at(colCadrePhone).cadrePhone); p != "" && hh.val[colCadreAccount] == c.account {
			out[p] = true
		}
	}
	return out
}

// resolveAccounts finds the cadres named by 帮扶责任人账号 among users (by
// username). An account nobody has is a cadre to create under that
// username, with the row's 帮扶责任人 as display name (so an export re-imports
// into a database without its accounts, keeping them); it returns those.
func (r *run) resolveAccounts(accounts []*cadreRef, users map[string]domain.User, candidates map[*cadreRef][]string) []*cadreRef {
	var fresh []*cadreRef
	for _, ref := range accounts {
		u, ok := users[ref.account]
		switch {
		case ok:
			r.takeUser(ref, u, colCadreAccount, ref.account)
		case ref.value == "":
			r.failRef(ref, colCadre, "required", fmt.Sprintf("there is no user %q; give the cadre's name to create them", ref.account),
				fmt.Sprintf("系统中没有账号「%s」，请填写%s以便创建该帮扶干部", ref.account, r.head(colCadre)))
		default:
			candidates[ref] = []string{ref.account}
			fresh = append(fresh, ref)
		}
	}
	return fresh
}

// takeUser makes u, the user value names in column c, the cadre of ref's
// households when u is an active cadre in the actor's subtree; a user who is
// not a cadre fails those rows at c. A deactivated cadre, or a user outside
// the subtree (as unknown as one nobody has, whatever their role), is the
// cadre only of the households already paired with them (checkPairedOnly):
// the register export names the cadre of a household's open pairing,
// whoever paired them and whatever became of their account since.
func (r *run) takeUser(ref *cadreRef, u domain.User, c col, value string) {
	switch {
	case !r.opt.Actor.InSubtree(u.RegionPath):
		ref.user, ref.pairedOnly = &u, &cadreRefusal{at: c, reason: "unknown_cadre", msg: fmt.Sprintf("there is no user %q in your region", value),
			msgZH: fmt.Sprintf("您管辖范围内没有用户名为「%s」的用户", value)}
	case u.Role != domain.RoleCadre:
		r.failRef(ref, c, "not_cadre", fmt.Sprintf("user %q is not a cadre", value), fmt.Sprintf("用户「%s」不是帮扶干部", value))
	case !u.Active:
		ref.user, ref.pairedOnly = &u, &cadreRefusal{at: c, reason: "inactive_cadre", msg: fmt.Sprintf("cadre %q is deactivated", value),
			msgZH: fmt.Sprintf("帮扶责任人「%s」的账号已停用", value)}
	default:
		ref.user = &u
	}
}

// checkPairedOnly refuses the households the file pairs with a cadre who
// may only keep the households already paired with them (takeUser), but
// for those whose open pairing with that cadre is stored: re-importing an
// export changes nothing, and says nothing the importer cannot read in the
// household's file.
func (r *run) checkPairedOnly() {
	for _, hh := range r.hhs {
		ref := hh.cadre
		if ref == nil || ref.pairedOnly == nil {
			continue
		}
		paired := false
		if hh.existing != nil {
			for _, p := range r.ex.pairings[hh.existing.Household.ID] {
				paired = paired || p.CadreID == ref.user.ID
			}
		}
		if paired {
			continue
		}
		no := ref.pairedOnly
		at := no.at
		if at == colCadreAccount && hh.val[colCadreAccount] == "" {
			at = colCadre
		}
		r.fail(hh.at(at), at, no.reason, no.msg, no.msgZH)
	}
}

// failRef fails, at column c, every household row that names ref; at
// 帮扶责任人 a row that named the account's cadre by name only.
func (r *run) failRef(ref *cadreRef, c col, reason, msg, msgZH string) {
	for _, hh := range ref.hhs {
		at := c
		if c == colCadreAccount && hh.val[colCadreAccount] == "" {
			at = colCadre
		}
		r.fail(hh.at(at), at, reason, msg, msgZH)
	}
}

// warnAccountNames warns of each household whose 帮扶责任人 is not the
// display name of the cadre its 帮扶责任人账号 names: the account decides.
// The rows joined to the account by that name say it again; they are not.
func (r *run) warnAccountNames(accounts []*cadreRef) {
	for _, ref := range accounts {
		var name string
		switch {
		case ref.pairedOnly != nil && ref.pairedOnly.reason == "unknown_cadre":
			continue // outside the importer's subtree: their name is not the importer's to read
		case ref.user != nil:
			name = ref.user.DisplayName
		case ref.newUser != nil:
			name = ref.newUser.User.DisplayName
		default:
			continue
		}
		for _, hh := range ref.hhs {
			if v := hh.val[colCadre]; v != "" && v != name && hh.val[colCadreAccount] == ref.account {
				r.warn(hh.at(colCadre).num, colCadre, "cadre_name_mismatch",
					fmt.Sprintf("account %s is the cadre %q, the file names %q; the household is paired with the account's cadre", ref.account, name, v),
					fmt.Sprintf("%s「%s」的帮扶干部为「%s」，本行%s为「%s」；已按账号结对", r.head(colCadreAccount), ref.account, name, r.head(colCadre), v))
			}
		}
	}
}

// foldPhoneless joins each phoneless reference to the one reference of
// its name that has a phone, when there is exactly one.
func foldPhoneless(order []*cadreRef) []*cadreRef {
	withPhones := map[string][]*cadreRef{}
	for _, ref := range order {
		if ref.phone != "" {
			withPhones[ref.value] = append(withPhones[ref.value], ref)
		}
	}
	out := order[:0]
	for _, ref := range order {
		if to := withPhones[ref.value]; ref.phone == "" && len(to) == 1 {
			for _, hh := range ref.hhs {
				hh.cadre = to[0]
			}
			to[0].hhs = append(to[0].hhs, ref.hhs...)
			continue
		}
		out = append(out, ref)
	}
	return out
}

// withPhone keeps the users whose phone is phone (digits only; "" keeps
// those with none).
func withPhone(us []domain.User, phone string) []domain.User {
	var out []domain.User
	for _, u := range us {
		if digitsOf(u.Phone) == phone {
			out = append(out, u)
		}
	}
	return out
}

func digitsOf(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// planNewCadres prepares the users (and units) for cadres the file names
// who do not exist yet. A new cadre lives in the county of the first
// household naming them (or in the importer's own region when that lies
// inside the county), and gets an unusable password: an admin sets one.
func (r *run) planNewCadres(fresh []*cadreRef, candidates map[*cadreRef][]string, taken map[string]bool) error {
	if len(fresh) == 0 {
		return nil
	}
	type unitKey struct {
		county uuid.UUID
		name   string
	}
	countySet, nameSet := map[uuid.UUID]bool{}, map[string]bool{}
	for _, ref := range fresh {
		hh := ref.hhs[0]
		if n := hh.val[colUnit]; n != "" {
			countySet[hh.countyID()] = true
			nameSet[n] = true
		}
	}
	units := map[unitKey]*unitRef{}
	if len(nameSet) > 0 {
		ids := make([]uuid.UUID, 0, len(countySet))
		for id := range countySet {
			ids = append(ids, id)
		}
		found, err := r.store.ImportUnits(r.ctx, ids, keys(nameSet))
		if err != nil {
			return err
		}
		for _, u := range found {
			units[unitKey{u.RegionID, u.Name}] = &unitRef{unit: u}
		}
	}
	for _, ref := range fresh {
		hh := ref.hhs[0]
		county := hh.countyID()
		regionID, regionPath := county, countyPath(hh.village.Path, county)
		if a := r.opt.Actor; a.RegionPath != "" && strings.HasPrefix(a.RegionPath, regionPath) {
			regionID, regionPath = a.RegionID, a.RegionPath
		}
		username := ""
		for _, c := range candidates[ref] {
			if !taken[c] {
				username = c
				break
			}
		}
		if username == "" {
			for _, h := range ref.hhs {
				r.fail(h.at(colCadre), colCadre, "unknown_cadre", fmt.Sprintf("no free username for new cadre %q; create the user first", ref.value),
					fmt.Sprintf("无法为新帮扶责任人「%s」生成用户名，请先在系统中创建该用户", ref.value))
			}
			continue
		}
		taken[username] = true
		u := domain.User{ID: uuid.New(), Username: username, DisplayName: ref.value, Role: domain.RoleCadre,
			RegionID: regionID, RegionPath: regionPath, Phone: digitsOf(hh.at(colCadrePhone).cadrePhone), Rank: hh.at(colRank).rank,
			Active: true, CreatedAt: r.now, UpdatedAt: r.now}
		if n := hh.val[colUnit]; n != "" {
			k := unitKey{county, n}
			ur := units[k]
			if ur == nil {
				ur = &unitRef{unit: domain.Unit{ID: uuid.New(), Name: n, RegionID: county, CreatedAt: r.now}, isNew: true}
				units[k] = ur
			}
			id := ur.unit.ID
			u.UnitID = &id
			ref.newUnit = ur
		}
		var fe domain.FieldErrors
		domain.ValidateUser(u, &fe)
		if len(fe) > 0 {
			for _, e := range fe {
				c := colCadre
				switch e.Field {
				case "/username":
					c = colCadreAccount
				case "/phone":
					c = colCadrePhone
				case "/rank":
					c = colRank
				}
				for _, h := range ref.hhs {
					r.fail(h.at(c), c, e.Reason, e.Message, e.MessageZH)
				}
			}
			continue
		}
		ref.newUser = &NewUser{User: u, PasswordHash: unusablePassword()}
	}
	return nil
}

// usernameCandidates are the usernames a new cadre may get: their mobile
// number when the file gives one (easy to tell them), else a short hash of
// county and name; with -2 … -9 for collisions.
func usernameCandidates(ref *cadreRef) []string {
	hh := ref.hhs[0]
	digits := ref.phone
	base := digits
	if len(digits) != 11 || digits[0] != '1' {
		sum := sha256.Sum256([]byte(hh.countyID().String() + "/" + ref.value))
		base = "cadre-" + hex.EncodeToString(sum[:4])
	}
	out := []string{base}
	for i := 2; i <= 9; i++ {
		out = append(out, fmt.Sprintf("%s-%d", base, i))
	}
	return out
}

// unusablePassword is a hash no password verifies against: it is not in any
// hash format. An admin sets the cadre's password before they log in.
func unusablePassword() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "!imported:" + hex.EncodeToString(b)
}
