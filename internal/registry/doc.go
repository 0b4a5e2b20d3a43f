// Package registry owns the register that every other feature reads: the
// region tree, households with their dated status and poverty-type history,
// members, assisting units, users and their duties, pairings and devices. It
// validates input, decides who may see and change what (role × region
// subtree, a cadre only their paired households), and writes through the
// Store it declares. It knows nothing of HTTP or SQL.
package registry
