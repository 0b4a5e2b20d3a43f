// Package storage owns persistence: the GORM models (which never leave this
// package), the repositories that turn rows into the services' types and
// driver errors into domain errors, and the versioned migrations for
// PostgreSQL and SQLite. No other package writes SQL.
//
// Dependencies point inward: each service declares the store it needs (its
// port) in its own package, with its own types — sync.Store, photos.Store,
// compliance.Store, registry.Store, importer.Store, auth.Store — and this
// package implements those ports; no service imports it. *Store has the
// methods. A port with a transaction, Tx(ctx, func(TxStore) error), is
// served by a small adapter that hands the callback the Store bound to the
// transaction as the service's own TxStore type (Store.Sync(),
// Store.Photos(), Store.Compliance(), …, in port_*.go).
//
// Each consumer's SQL sits in files named after it: sync_*.go (the push,
// the feed, the snapshot walk), compliance*.go, photos.go, registry_*.go,
// auth_*.go, importer.go. What every consumer shares is in scope.go (who
// sees which household), store.go (transactions, the clock), audit.go,
// queues.go (work-queue upserts), convert.go, errors.go and db.go.
package storage
