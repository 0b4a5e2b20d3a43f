package storage

import "github.com/fieldvisit/fieldvisit/internal/auth"

// Sign-in, token rotation and throttling each take one statement or one
// transaction of their own: the auth port needs no adapter.
var _ auth.Store = (*Store)(nil)
