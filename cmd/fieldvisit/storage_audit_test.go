package main

import "fieldvisit/storage"

func storageAudit() storage.AuditEntry {
	return storage.AuditEntry{Action: "bootstrap", ObjectType: "test"}
}
