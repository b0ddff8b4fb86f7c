package wechatauth

import (
	"log/slog"
	"time"
)

// ShowOpenInWeChat makes a answer browsers outside WeChat with the
// open-in-WeChat page, which it shows by default only with WeChat's own
// endpoints.
func ShowOpenInWeChat(a *Auth) { a.apps.outside = openInWeChat(a.e.Origin()) }

// SetClock replaces the clock of a for tests of expiry.
func SetClock(a *Auth, now func() time.Time) { a.now = now }

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// LeaveDeadClaim claims the callback of state the way an instance of a
// does before it exchanges the code, and never finishes: an instance that
// died in between.
func LeaveDeadClaim(a *Auth, state string) error { return a.e.LeaveDeadClaim(state) }

// SetStoreClock replaces the clock by which s lets entries expire.
func SetStoreClock(s *MemoryStore, now func() time.Time) { s.now = now }
