package storage

import "github.com/fieldvisit/fieldvisit/internal/importer"

// An import writes its whole plan in ApplyImport's one transaction: the
// importer's port needs no adapter.
var _ importer.Store = (*Store)(nil)

// The register export reads pages of households with their members and
// first open pairing (importer_export.go), the region and the audit log.
var _ importer.RegisterStore = (*Store)(nil)
