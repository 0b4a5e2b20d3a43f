// Package casework owns a household's casework records beyond its visits
// (DESIGN §6b): the yearly income account (收入测算) with its per-capita net
// income, the exit standard of each year and the exit-candidates list, and
// the step-by-step procedures (两公示一公告 for exit, identification and
// removal) that end in a status move through the register; a poor
// village's exit (贫困村出列) on the same step mechanism, with its yearly
// criteria and what is recorded of each village; and the casework ledgers
// (收入台账, 脱贫退出台账) streamed as spreadsheets. It declares the store port
// it needs (Store); storage implements it.
package casework
