package storage

import (
	"fmt"
	"reflect"
	"strings"

	"gorm.io/gorm"
)

// bulkColumn is one column of rows written together: its values, one per
// row, as a slice.
type bulkColumn struct {
	name   string
	pgType string // the PostgreSQL type of one value
	values any
}

// insertColumns writes n rows into table, given column by column, in the
// caller's transaction. On PostgreSQL the rows go as one statement, an
// INSERT … SELECT over unnest of one array per column: a draw writes a
// quarter of a million rows, and statement after statement of 500 rows
// spends its time binding a parameter per value. SQLite gets multi-row
// VALUES.
func (s *Store) insertColumns(tx *gorm.DB, table string, n int, cols ...bulkColumn) error {
	if n == 0 {
		return nil
	}
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.name
		if l := reflect.ValueOf(c.values).Len(); l != n {
			return fmt.Errorf("storage: %s.%s has %d values for %d rows", table, c.name, l, n)
		}
	}
	head := "INSERT INTO " + table + " (" + strings.Join(names, ", ") + ") "
	ctx := tx.Statement.Context
	if s.dialect == Postgres {
		arrays := make([]string, len(cols))
		args := make([]any, len(cols))
		for i, c := range cols {
			arrays[i] = fmt.Sprintf("$%d::%s[]", i+1, c.pgType)
			args[i] = c.values
		}
		_, err := tx.Statement.ConnPool.ExecContext(ctx, head+"SELECT * FROM unnest("+strings.Join(arrays, ", ")+")", args...)
		return err
	}
	values := make([]reflect.Value, len(cols))
	for i, c := range cols {
		values[i] = reflect.ValueOf(c.values)
	}
	row := "(?" + strings.Repeat(", ?", len(cols)-1) + ")"
	for start := 0; start < n; start += s.importBatch() {
		end := min(n, start+s.importBatch())
		rows := make([]string, 0, end-start)
		args := make([]any, 0, (end-start)*len(cols))
		for r := start; r < end; r++ {
			rows = append(rows, row)
			for _, v := range values {
				args = append(args, v.Index(r).Interface())
			}
		}
		if _, err := tx.Statement.ConnPool.ExecContext(ctx, head+"VALUES "+strings.Join(rows, ", "), args...); err != nil {
			return err
		}
	}
	return nil
}
