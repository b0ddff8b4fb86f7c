package wechatauth

import (
	"errors"

	"github.com/wechatauth/wechatauth/internal/engine"
	"github.com/wechatauth/wechatauth/mp"
)

// Errors a caller may test for with errors.Is. Failures from WeChat itself
// arrive as *mp.Error.
var (
	// ErrNotFound is returned by stores when nothing is stored under the
	// key. It is mp.ErrNotFound, so one test covers stores and caches.
	ErrNotFound = mp.ErrNotFound
	// ErrInvalidState means the callback's state is missing, malformed,
	// forged, expired, already spent, or belongs to another browser.
	ErrInvalidState = engine.ErrInvalidState
	// ErrReauthorize means the stored web-auth tokens of a user can no
	// longer be refreshed: the user must go through authorization again
	// (see Auth.Reauthorize).
	ErrReauthorize = errors.New("wechatauth: the user must authorize again")
)

// HTTPStatus returns the status code that fits err when it ends a request:
// 400 for a bad state, 403 for a snapshot-page visitor, 429 for too many
// attempts, 503 when a store (Redis, say) fails, 500 when WeChat refuses
// the site's configuration (a wrong AppSecret, say), 504 for timeouts
// talking to WeChat, 502 for WeChat's other errors and unreachable WeChat,
// and 500 for everything else. Custom error handlers use it to keep the default
// statuses.
func HTTPStatus(err error) int { return engine.Status(err, fromWeChat) }

// fromWeChat reports whether err is WeChat's refusal (an errcode) or a
// failure to reach or read WeChat.
func fromWeChat(err error) bool {
	_, refused := errcodeOf(err)
	return refused || errors.Is(err, mp.ErrUpstream)
}

// errcodeOf returns WeChat's errcode behind err, and whether err is
// WeChat's refusal (an errcode) at all, as opposed to a failure to reach
// WeChat or of a store.
func errcodeOf(err error) (int, bool) {
	var apiErr *mp.Error
	if errors.As(err, &apiErr) {
		return apiErr.Code, true
	}
	return 0, false
}
