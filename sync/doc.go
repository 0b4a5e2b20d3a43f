// Package sync will own the offline sync protocol between cadres' phones and
// the server (DESIGN §4): exactly-once push batches keyed by Idempotency-Key,
// per-record outcomes, field-level merge with conflict records, and a
// complete, ordered pull feed. It lands with the sync issue; until then the
// register is reached through the resource API only.
package sync
