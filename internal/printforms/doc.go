// Package printforms owns the layout of the printed forms cadres used to
// fill by hand (001 asks to cut the 一册五卡四帐 paperwork; 002: 一证两册,
// 帮扶记录卡, 明白卡): the cadre's monthly 帮扶手册 page, the household's
// 帮扶记录卡 and 明白卡, and the whole 一户一档 file, as A4 PDF in Chinese
// with a subset of an embedded CJK font, one household at a time or a
// whole village streamed as one PDF or a ZIP of one PDF per household.
//
// It stores nothing and reads through the services' own read methods (the
// register's household file, the visits, the casework port), so every
// form shows exactly what the caller may read there, scoped the same way.
package printforms
