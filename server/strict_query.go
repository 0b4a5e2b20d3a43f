package server

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gin-gonic/gin"

	"github.com/fieldvisit/fieldvisit/domain"
)

// queryNames are the query parameters each API operation takes, by
// method and route shape ("GET /api/v1/households/{}"), as the OpenAPI
// document declares them; each says whether it may be given more than
// once (an array).
type queryNames map[string]map[string]bool

// pathParam matches a path parameter in either spelling: the document's
// {id} and gin's :id.
var pathParam = regexp.MustCompile(`\{[^/}]+\}|:[^/]+`)

// routeShape is a route with its parameters' names dropped, so that the
// document's /households/{id} and the router's /households/:id meet.
func routeShape(method, path string) string {
	return strings.ToUpper(method) + " " + pathParam.ReplaceAllString(path, "{}")
}

// readQueries holds what readQueryNames read of each document: the spec
// is embedded and the same for every server the process builds (tests
// build hundreds), and parsing it costs ~40 ms and 10 MB each time.
var readQueries struct {
	sync.Mutex
	bySpec map[string]queryNames
}

// readQueryNames reads the document's query parameters, the path item's
// and the operation's own, once per document.
func readQueryNames(spec []byte) (queryNames, error) {
	readQueries.Lock()
	defer readQueries.Unlock()
	if known, ok := readQueries.bySpec[string(spec)]; ok {
		return known, nil
	}
	known, err := parseQueryNames(spec)
	if err != nil {
		return nil, err
	}
	if readQueries.bySpec == nil {
		readQueries.bySpec = map[string]queryNames{}
	}
	readQueries.bySpec[string(spec)] = known
	return known, nil
}

func parseQueryNames(spec []byte) (queryNames, error) {
	loader := openapi3.NewLoader()
	loader.Context = context.Background()
	doc, err := loader.LoadFromData(spec)
	if err != nil {
		return nil, fmt.Errorf("server: openapi.yaml: %w", err)
	}
	out := queryNames{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			names := map[string]bool{}
			for _, p := range slices.Concat(item.Parameters, op.Parameters) {
				if p.Value != nil && p.Value.In == openapi3.ParameterInQuery {
					s := p.Value.Schema
					names[p.Value.Name] = s != nil && s.Value != nil && s.Value.Type.Is(openapi3.TypeArray)
				}
			}
			out[routeShape(method, path)] = names
		}
	}
	return out, nil
}

// strictQuery refuses a request whose query string names a parameter its
// operation does not take, with 422 naming each one, as a body with an
// unknown field is refused: a misspelt or unsupported filter (from=,
// regionId=) must not quietly answer the unfiltered list. So is a query
// string that does not parse (a ";" or a bad % escape: Go's parser drops
// such a pair, filter and all) and a single-valued parameter given twice
// (which of the two would apply?). A route the document does not describe
// is left alone (TestEveryRouteIsDocumentedAndViceVersa keeps that set
// empty: internal/contract).
func strictQuery(known queryNames) gin.HandlerFunc {
	return func(c *gin.Context) {
		names, ok := known[routeShape(c.Request.Method, c.FullPath())]
		if !ok || c.Request.URL.RawQuery == "" {
			c.Next()
			return
		}
		var fe domain.FieldErrors
		query, err := url.ParseQuery(c.Request.URL.RawQuery)
		if err != nil {
			fe.Add("query", "malformed", "the query string does not parse (a ; or a bad % escape): "+err.Error(), "查询参数格式不正确（含分号或错误的%转义）")
		}
		var unknown, twice []string
		for name, values := range query {
			switch repeatable, known := names[name]; {
			case !known:
				unknown = append(unknown, name)
			case len(values) > 1 && !repeatable:
				twice = append(twice, name)
			}
		}
		slices.Sort(unknown)
		slices.Sort(twice)
		for _, name := range unknown {
			fe.Add(name, "unknown_parameter", "this route takes no query parameter "+name, "不支持的查询参数："+name)
		}
		for _, name := range twice {
			fe.Add(name, "duplicate", "query parameter "+name+" is given more than once", "查询参数重复："+name)
		}
		if err := fe.Err(); err != nil {
			writeError(c, err)
			c.Abort()
			return
		}
		c.Next()
	}
}
