package storage

import "github.com/fieldvisit/fieldvisit/internal/importer"

// An import writes its whole plan in ApplyImport's one transaction: the
// importer's port needs no adapter.
var _ importer.Store = (*Store)(nil)
