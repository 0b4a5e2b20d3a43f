// Package auth owns who a caller is: argon2id password hashing with a bound
// on concurrent hashes, the Ed25519 signing keys (rotated by kid), short-lived
// access JWTs, opaque refresh-token families with rotation and reuse
// detection, and login throttling. It knows nothing of HTTP or SQL; it reads
// and writes through the Store it declares.
package auth
