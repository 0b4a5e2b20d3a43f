package storage

import "github.com/fieldvisit/fieldvisit/internal/registry"

// The register's writes are each one transaction of their own: its port
// needs no adapter.
var _ registry.Store = (*Store)(nil)
