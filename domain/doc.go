// Package domain owns fieldvisit's core vocabulary: the region tree, households
// with their poverty type and status histories, members, assisting units, users
// with roles, ranks and duties, pairings, devices, and the error codes every
// other package maps to transport. It imports no HTTP, SQL or S3 package, so
// the rules it states hold whichever adapter calls them.
package domain
