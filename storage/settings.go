package storage

import (
	"context"

	"gorm.io/gorm"
)

// Setting reads a key of the settings table ("" when absent).
func (s *Store) Setting(ctx context.Context, key string) (string, error) {
	var v struct{ Value string }
	err := s.db.WithContext(ctx).Table("settings").Select("value").Where("key = ?", key).Take(&v).Error
	if isNotFound(err) {
		return "", nil
	}
	return v.Value, translate(err, "setting")
}

// SetSetting writes a key of the settings table.
func (s *Store) SetSetting(ctx context.Context, key, value string) error {
	return s.inTx(ctx, "setting", func(tx *gorm.DB) error {
		if err := tx.Exec("DELETE FROM settings WHERE key = ?", key).Error; err != nil {
			return err
		}
		return tx.Exec("INSERT INTO settings (key, value) VALUES (?, ?)", key, value).Error
	})
}
