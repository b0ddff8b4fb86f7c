package wechatauth

import "time"

// SetClock replaces the clock of a for tests of expiry.
func SetClock(a *Auth, now func() time.Time) { a.now = now }
