// Package client is the Go SDK of the fieldvisit sync protocol (DESIGN §4):
// what a cadre's phone app, the tests, the load generator and `fieldvisit
// sim` use to talk to the server.
//
// A Client keeps, in its directory (Config.Dir):
//
//   - the session (access and refresh tokens, rotated on refresh);
//   - a local replica of the cadre's scope — households, members, pairings
//     and the cadre's own visits from every device — applied by version
//     from pulls, and the opaque pull cursor;
//   - the outbox: every change recorded offline (RecordVisit, EditVisit,
//     DeleteVisit, EditHousehold, EditMember, and an inspector's
//     AttachFindings), with the base version and base values it was made
//     from, and the batch in flight with its Idempotency-Key and exact
//     body.
//
// Everything is saved, and fsynced, before the call that changed it returns:
// a phone that is killed, or loses power, at any moment restarts with
// nothing it was told lost. The state is written whole into one of two slot
// files in turn, each with a length and SHA-256 checksum, so a torn write is
// detected and the previous complete save used.
//
// The photo outbox: photos recorded with a visit (NewVisit.PhotoFiles) are
// copied into Dir/photos and hashed while copied, and queued in the same
// save as the visit. Sync pushes the records first, pulls, then uploads the
// photos one by one — whole or in chunks sized to the link, resuming from
// what the server holds after a dropped link or a killed process, never
// sending a photo the server already has, and setting aside (RefusedPhotos)
// a photo the server refuses as invalid. Backlog says what is left to send
// (photo_outbox.go, photo_upload.go).
//
// Push sends the outbox in batches of at most 500 changes. A batch's key and
// body are saved before the first send and reused for every retry, whatever
// the failure (timeout, dropped connection before or after the server
// committed, 5xx, a restart of the process), so the server applies it
// exactly once and answers a replay with the stored response. Only a 2xx
// removes the batch from the phone; each change's outcome (applied, merged,
// conflict, duplicate, rejected) is returned, kept in Outcomes and passed to
// Config.OnOutcome. Pull fetches pages until has_more is false, saving each
// page with its cursor. Sync is Push, Pull, then UploadPhotos.
//
// What the phone shows (Households, Members, Visits, …) is the replica with
// the phone's own changes laid over it: acknowledged ones until the pull that
// brings them back, then the unacknowledged ones in order.
package client
