// Package testclock is a clock for tests of expiry: it runs with the wall
// clock plus an offset that Advance adds to, and moves the clock of the
// WeChat emulator along with it, so that codes and tokens expire on both
// sides at once without sleeping.
package testclock

import (
	"sync"
	"time"
)

// Advancer is a clock that can be moved forward, such as a wechattest.Server.
type Advancer interface{ Advance(d time.Duration) }

// Clock moves a clock of the code under test and the emulator's together.
type Clock struct {
	mu  sync.Mutex
	off time.Duration
	wx  Advancer
}

// New returns a Clock that drives wx and, through set, the clock of the
// code under test (an export_test seam such as SetClock).
func New(wx Advancer, set func(now func() time.Time)) *Clock {
	c := &Clock{wx: wx}
	set(c.Now)
	return c
}

// Now is the wall clock plus every Advance so far.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

// Advance moves both clocks forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
	c.wx.Advance(d)
}
