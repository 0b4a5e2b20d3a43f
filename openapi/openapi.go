// Package openapi holds the API contract, openapi.yaml, embedded so the
// binary serves exactly the contract its tests validate against.
package openapi

import _ "embed"

// Spec is the OpenAPI 3.1 document.
//
//go:embed openapi.yaml
var Spec []byte
