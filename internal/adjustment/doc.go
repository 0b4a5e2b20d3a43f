// Package adjustment owns the yearly adjustment round (每年一季度动态调整,
// DESIGN §6b): a batch of proposed changes for a town or county and year —
// exits, new registrations, removals, re-pairings and poverty-type changes —
// built from the candidate lists and from a supervisor's spreadsheet, that
// a supervisor approves or rejects item by item or as a whole. An approved
// item is applied through the same services as the single change
// (casework's procedures, the register's pairings and poverty types, bound
// to the item's transaction through Changes), so history, change feed and
// rules follow it exactly as if it had been done by hand. It declares the
// store port it needs (Store); storage implements it.
package adjustment
