package wecom

import "time"

// SetClock replaces the clock of a's login flow (state expiry).
func SetClock(a *Auth, now func() time.Time) { a.now = now }

// EncodeMember and DecodeMember are the session's encoding, for tests of
// its round trip.
var (
	EncodeMember = encodeMember
	DecodeMember = decodeMember
)
