package work

import "time"

// SetClock replaces the clock of c, for tests of expiry.
func SetClock(c *Client, now func() time.Time) { c.now = now }
