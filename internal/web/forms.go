package web

import (
	"errors"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// form is a console form as its template draws it: the values the person
// typed (kept when the services refuse them), each field's error in
// Chinese next to it, and a message for what belongs to no one field.
// The checks are the services' own: a form only names where they belong.
type form struct {
	Values  url.Values
	Errors  map[string]string // by form field name
	Message string
}

// Value is what the field holds.
func (f form) Value(name string) string { return f.Values.Get(name) }

// Has reports whether a field (a checkbox or a multiple select) holds value.
func (f form) Has(name, value string) bool { return slices.Contains(f.Values[name], value) }

// Error is the field's error, "" when it has none.
func (f form) Error(name string) string { return f.Errors[name] }

// summary is every message of the form in one line, for a page that has
// no field to show them next to.
func (f form) summary() string {
	msgs := []string{}
	if f.Message != "" {
		msgs = append(msgs, f.Message)
	}
	for _, name := range slices.Sorted(maps.Keys(f.Errors)) {
		msgs = append(msgs, f.Errors[name])
	}
	return strings.Join(msgs, "；")
}

// Failed reports whether anything was refused.
func (f form) Failed() bool { return len(f.Errors) > 0 || f.Message != "" }

// add puts a message on a field, after any it already has.
func (f *form) add(field, msg string) {
	if f.Errors == nil {
		f.Errors = map[string]string{}
	}
	if prev := f.Errors[field]; prev != "" {
		msg = prev + "；" + msg
	}
	f.Errors[field] = msg
}

// refused turns a service's refusal of the caller's input (invalid, or
// in conflict with the record's state) into the form's errors: a field
// pointer ("/period_to", "/plan/strata/0/size") names the form field
// that fields maps its longest known prefix to ("period_to",
// "plan/strata/0/size" → "size_poor"), else its first segment. ok is
// false for any other error, which the caller answers as a page.
func refused(err error, values url.Values, fields map[string]string) (form, bool) {
	f := form{Values: values}
	var de *domain.Error
	if !errors.As(err, &de) || (de.Code != domain.CodeInvalid && de.Code != domain.CodeConflict) {
		return f, false
	}
	if len(de.Fields) == 0 || de.Code == domain.CodeConflict {
		f.Message = de.MessageZH
	}
	for _, fe := range de.Fields {
		f.add(formField(fe.Field, fields), fe.MessageZH)
	}
	return f, true
}

// formField is the form field a service's field pointer names; a key of
// fields may stand for any list index with "*" ("duties/*/kind").
func formField(pointer string, fields map[string]string) string {
	key := strings.TrimPrefix(pointer, "/")
	for k := key; ; {
		if name, ok := fields[k]; ok {
			return name
		}
		if name, ok := fields[anyIndex.ReplaceAllString(k, "/*$1")]; ok {
			return name
		}
		i := strings.LastIndex(k, "/")
		if i < 0 {
			break
		}
		k = k[:i]
	}
	first, _, _ := strings.Cut(key, "/")
	return first
}

// anyIndex matches a list index in a field pointer.
var anyIndex = regexp.MustCompile(`/[0-9]+(/|$)`)

// selected marks the options a field of f holds, for the shared
// "options" template.
func selected(opts []option, f form, name string) []option {
	out := make([]option, len(opts))
	for i, o := range opts {
		o.Selected = f.Has(name, o.Value)
		out[i] = o
	}
	return out
}

// selectedGroups is selected for grouped options ("grouped-options").
func selectedGroups(gs []optionGroup, f form, name string) []optionGroup {
	out := make([]optionGroup, len(gs))
	for i, g := range gs {
		g.Options = selected(g.Options, f, name)
		out[i] = g
	}
	return out
}

// formUUID reads an optional id field; a malformed one goes on the form.
func formUUID(f *form, name, labelZH string) *uuid.UUID {
	v := strings.TrimSpace(f.Value(name))
	if v == "" {
		return nil
	}
	id, err := uuid.Parse(v)
	if err != nil {
		f.add(name, labelZH+"无效")
		return nil
	}
	return &id
}

// formInt reads a whole-number field, def when it is empty.
func formInt(f *form, name, labelZH string, def int) int {
	v := strings.TrimSpace(f.Value(name))
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		f.add(name, labelZH+"应为整数")
		return def
	}
	return n
}

// formDate reads a date field (YYYY-MM-DD, as <input type=date> sends).
func formDate(f *form, name, labelZH string) domain.Date {
	v := strings.TrimSpace(f.Value(name))
	if v == "" {
		return domain.Date{}
	}
	d, err := domain.ParseDate(v)
	if err != nil {
		f.add(name, labelZH+"应为日期（年-月-日）")
	}
	return d
}

// seeOther ends a form that succeeded, so a reload does not post it again.
func seeOther(w http.ResponseWriter, r *http.Request, to string) {
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// pageOf is the page of a long list a request asks for (?page=, from 1).
func pageOf(r *http.Request) int {
	n, err := strconv.Atoi(r.URL.Query().Get("page"))
	if err != nil || n < 1 {
		return 1
	}
	return n
}

// listPager is the Pager of page n of a long list of total items, size a
// page, with base the list's URL and query (the page parameter is set on
// it for each link).
func listPager(base url.URL, n int, size int, total int64) Pager {
	return newPager(n, total, size, func(to int) string {
		q := base.Query()
		q.Set("page", strconv.Itoa(to))
		base.RawQuery = q.Encode()
		return base.String()
	})
}

// formPost is a console form's POST: call makes the service call and names
// the page to go to next; when the services refuse the input, reload draws
// the page again with the form (which names it among a page's forms) and
// its errors, answered 422 (409 when the record changed meanwhile).
type formPost struct {
	template string            // the page reload draws
	pattern  string            // or, when pages share a template, its pattern
	which    string            // the form, among the page's
	fields   map[string]string // form fields by service field pointer (refused)
	call     func(c *Console, r *http.Request, s *session, f *form) (next string, err error)
	reload   func(c *Console, r *http.Request, s *session, which string, f *form) (any, error)
}

func (fp formPost) handle(c *Console, w http.ResponseWriter, r *http.Request, s *session) {
	_ = r.ParseForm() // done already by the CSRF check, which refuses a body it cannot read
	f := form{Values: r.PostForm}
	next, err := fp.call(c, r, s, &f)
	if err == nil && !f.Failed() {
		seeOther(w, r, next)
		return
	}
	status := http.StatusUnprocessableEntity
	if err != nil {
		if domain.IsCode(err, domain.CodeConflict) {
			status = http.StatusConflict
		}
		var ok bool
		if f, ok = refused(err, f.Values, fp.fields); !ok {
			c.fail(w, r, s, err)
			return
		}
	}
	f.Values.Del("password") // never sent back in a page
	data, err := fp.reload(c, r, s, fp.which, &f)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	if fp.pattern != "" {
		c.show(w, r, s, pageAt(fp.pattern), status, data)
		return
	}
	c.show(w, r, s, pageNamed(fp.template), status, data)
}

// pathUUID is the {id} of a route; a malformed one is the same 404 as an
// unknown one.
func pathUUID(r *http.Request, what string) (uuid.UUID, error) {
	id, err := uuid.Parse(r.PathValue("id"))
	if err != nil {
		return uuid.Nil, domain.NotFound(what)
	}
	return id, nil
}
