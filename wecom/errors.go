package wecom

import (
	"errors"

	"github.com/wechatauth/wechatauth"
	"github.com/wechatauth/wechatauth/internal/engine"
	"github.com/wechatauth/wechatauth/mp"
	"github.com/wechatauth/wechatauth/work"
)

// Errors a caller may test for with errors.Is. Failures from WeCom itself
// arrive as *work.Error.
var (
	// ErrInvalidState means the callback's state is missing, malformed,
	// forged, expired, already spent, or belongs to another browser. It
	// is wechatauth.ErrInvalidState: one test covers both faces.
	ErrInvalidState = wechatauth.ErrInvalidState
	// ErrNotMember means that someone who is not a member of the corp
	// logged in through WeCom and Options.AllowNonMembers is off: they get
	// a 403 page that says so.
	ErrNotMember = errors.New("wecom: not a member of the corp (Options.AllowNonMembers is off)")
)

// HTTPStatus returns the status code that fits err when it ends a request:
// 400 for a bad state, 403 for a non-member or a login OnLogin refused,
// 429 for too many attempts, 503 when a store (Redis, say) fails, 500 when
// WeCom refuses the site's configuration (a wrong Secret, an untrusted IP,
// say), 504 for timeouts talking to WeCom, 502 for WeCom's other errors
// and unreachable WeCom, and 500 for everything else. Custom error
// handlers use it to keep the default statuses.
func HTTPStatus(err error) int { return engine.Status(err, fromWeCom) }

// fromWeCom reports whether err is WeCom's refusal (an errcode) or a
// failure to reach or read WeCom.
func fromWeCom(err error) bool {
	_, refused := errcodeOf(err)
	return refused || errors.Is(err, mp.ErrUpstream)
}

// errcodeOf returns WeCom's errcode behind err, and whether err is WeCom's
// refusal at all.
func errcodeOf(err error) (int, bool) {
	var apiErr *work.Error
	if errors.As(err, &apiErr) {
		return apiErr.Code, true
	}
	return 0, false
}
