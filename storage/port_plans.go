package storage

import "github.com/fieldvisit/fieldvisit/internal/plans"

// Plans returns the store as the plan service's port (plans.Store).
func (s *Store) Plans() *Store { return s }

var _ plans.Store = (*Store)(nil)
