package app

import "github.com/fieldvisit/fieldvisit/domain"

func storageAudit() domain.AuditEntry {
	return domain.AuditEntry{Action: "bootstrap", ObjectType: "test"}
}
