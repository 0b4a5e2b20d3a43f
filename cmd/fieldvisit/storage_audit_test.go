package main

import "fieldvisit/domain"

func storageAudit() domain.AuditEntry {
	return domain.AuditEntry{Action: "bootstrap", ObjectType: "test"}
}
