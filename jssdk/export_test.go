package jssdk

import "time"

// SetClock replaces the clock of s, for tests of RenewInterval.
func SetClock(s *Signer, now func() time.Time) { s.now = now }
