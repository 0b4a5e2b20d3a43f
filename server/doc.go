// Package server is fieldvisit's HTTP transport (Gin): routing, strict JSON
// binding, authentication of bearer tokens, mapping domain errors to RFC 9457
// problem+json, content coding (gzip answers and bodies), request ids, logs
// and metrics. Handlers bind, authorise, call
// a service and encode; they hold no SQL and no business rule.
package server
