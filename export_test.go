package wechatauth

import (
	"log/slog"
	"time"
)

// SetClock replaces the clock of a for tests of expiry.
func SetClock(a *Auth, now func() time.Time) { a.now, a.client.now = now, now }

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// SetClientClock replaces the clock of c, for tests of token expiry.
func SetClientClock(c *Client, now func() time.Time) { c.now = now }
