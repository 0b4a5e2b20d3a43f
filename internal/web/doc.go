// Package web owns the supervisors' and inspectors' console at /ui/: the
// server-rendered pages (html/template, zh-CN) with htmx for partial
// updates, uPlot for charts and Leaflet for the 挂图作战 map, every file
// embedded (assets/, templates/; the vendored libraries are listed in
// docs/third-party.md) and served with fingerprinted URLs, cached for a
// year and gzipped once at start-up.
//
// The console is a second transport over the same services as the API
// (Deps), with the same caller: a browser signs in through
// auth.Service.Login and keeps the access and refresh tokens of that login
// in HttpOnly, SameSite=Strict cookies (session.go), so each request gets
// its domain.Principal from auth.Service as the API's do, and every scope
// rule of the services applies unchanged. There is no SQL here and no
// permission check of its own beyond which pages a role sees in the nav.
// Every state-changing request passes the CSRF checks (csrf.go); every
// answer carries a strict Content-Security-Policy: no inline script or
// style, so templates use classes and data- attributes, and scripts are
// files in assets/.
//
// # Adding a page
//
// A page is one template, one load function and one entry in pages
// (pages.go):
//
//  1. templates/NAME.html defines "content", drawn inside the layout
//     (header, nav, logout); it may use the shared "table" and "stat"
//     templates (templates/partials.html) and the functions date
//     (YYYY-MM-DD, Asia/Shanghai), pct, tone and label (Chinese labels of
//     the vocabularies in render.go).
//  2. A load function func(c *Console, r *http.Request, s *session) (any,
//     error) calls the services with s.principal and returns the
//     template's data; a domain error becomes the Chinese 404/403/422
//     page (another village's household is the same 404 as none). Build
//     tables as Table values so they all read alike.
//  3. An entry in pages: path pattern, nav title, template, the assets the
//     page needs beyond the layout's, and the roles that see it.
//
// Parts of a page that htmx swaps, or JSON a page's script reads, are
// fragments (the fragments list): the same session and CSRF checks, any
// method. A new page's own script goes in assets/ and is listed in its
// entry; it must not use inline handlers or eval.
package web
