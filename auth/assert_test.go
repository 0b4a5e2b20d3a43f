package auth

import "fieldvisit/storage"

var _ Store = (*storage.Store)(nil)
