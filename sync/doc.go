// Package sync owns the offline sync protocol between cadres' phones and the
// server (DESIGN §4): exactly-once push batches keyed by Idempotency-Key and
// committed with their stored answer, per-record outcomes, field-level
// three-way merge with conflict records for overlapping edits, and a
// complete, ordered pull feed numbered in commit order, whose last page
// carries a cadre's due list. It knows nothing of HTTP; the server hands it
// bytes and a caller. It declares what it needs of the database (Store, and
// TxStore inside a transaction) in its own types, which package storage
// implements, and takes the due list as a function (DueList), so it knows
// nothing of compliance rules either.
package sync
