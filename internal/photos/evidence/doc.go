// Package evidence owns the proof-of-presence judgement of a visit (DESIGN
// §5): from the visit's GPS stamps, the household's home point, the cadre's
// visits just before and after, and the visit's photos (their EXIF and
// where else the same bytes were used) it derives flags, each with the
// numbers behind it and a reason in Chinese and English. It decides nothing
// about counting: which flags stop a visit from counting is the rules
// profile's business. Pure: no HTTP, SQL or blob store.
package evidence
