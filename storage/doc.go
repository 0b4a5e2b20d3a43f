// Package storage owns persistence: the GORM models (which never leave this
// package), the repositories that turn rows into domain types and driver
// errors into domain errors, and the versioned migrations for PostgreSQL and
// SQLite. No other package writes SQL.
package storage
