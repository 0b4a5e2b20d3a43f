package auth

import "github.com/fieldvisit/fieldvisit/storage"

var _ Store = (*storage.Store)(nil)
