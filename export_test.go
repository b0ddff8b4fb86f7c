package wechatauth

import (
	"log/slog"
	"net/http"
	"time"
)

// ShowOpenInWeChat makes a answer browsers outside WeChat with the
// open-in-WeChat page, which it shows by default only with WeChat's own
// endpoints.
func ShowOpenInWeChat(a *Auth) { a.outside = http.HandlerFunc(a.openInWeChat) }

// SetClock replaces the clock of a for tests of expiry.
func SetClock(a *Auth, now func() time.Time) { a.now = now }

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
