package wechatauth

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
)

// Error codes WeChat returns in the errcode field, named for the cases the
// package and its users act on. WECHAT.md-level detail lives in the doc of
// each constant; any other code still arrives as an *APIError.
const (
	CodeBusy                = -1    // system busy; retry later (a retried code then gives CodeCodeUsed)
	CodeInvalidCredential   = 40001 // access token invalid, or not the latest one
	CodeInvalidGrantType    = 40002 // grant_type is wrong
	CodeInvalidOpenID       = 40003 // openid unknown to this account, or token/openid mismatch
	CodeInvalidAppID        = 40013 // appid is wrong
	CodeInvalidAccessToken  = 40014 // access token malformed
	CodeInvalidCode         = 40029 // code unknown, expired or already used
	CodeInvalidRefreshToken = 40030 // refresh token unknown
	CodeInvalidAppSecret    = 40125 // app secret is wrong
	CodeCodeUsed            = 40163 // code already exchanged
	CodeIPNotAllowed        = 40164 // server IP not in the account's whitelist
	CodeMissingCode         = 41008 // code parameter missing
	CodeAccessTokenExpired  = 42001 // access token expired
	CodeRefreshTokenExpired = 42002 // refresh token expired: the user must authorize again
	CodeCodeExpired         = 42003 // code timed out
	CodeDailyQuota          = 45009 // daily API quota reached
	CodeMinuteQuota         = 45011 // per-minute API quota reached
	CodeScopeUnauthorized   = 48001 // the token's scope does not allow this API (userinfo with snsapi_base)
)

// APIError is a reply from WeChat that carries a non-zero errcode.
// Compare Code with the Code constants; Msg is WeChat's errmsg, kept as evidence.
type APIError struct {
	Code     int    // WeChat's errcode
	Msg      string // WeChat's errmsg
	Endpoint string // the API path that answered, such as "/sns/oauth2/access_token"
}

// Error reports the endpoint, WeChat's errcode and its errmsg.
func (e *APIError) Error() string {
	return fmt.Sprintf("wechatauth: %s: WeChat errcode %d: %s", e.Endpoint, e.Code, e.Msg)
}

// Sentinel errors for the package's own conditions. They reach
// Options.ErrorHandler wrapped, so test for them with errors.Is.
var (
	// ErrNotFound is returned by stores when nothing is stored under the key.
	ErrNotFound = errors.New("wechatauth: not found")
	// ErrInvalidState means the callback's state is missing, malformed, forged,
	// already spent, or belongs to another browser.
	ErrInvalidState = errors.New("wechatauth: invalid or unknown state")
	// ErrStateExpired means the callback's state was issued too long ago.
	ErrStateExpired = errors.New("wechatauth: state expired")
	// ErrTooManyAttempts means the session started more authorization round
	// trips than Options.MaxAttempts allows without a login.
	ErrTooManyAttempts = errors.New("wechatauth: too many authorization attempts")
	// ErrSnapshotUser means WeChat answered for a snapshot-page (快照页) user,
	// whose openid is virtual and must not be bound to an account.
	ErrSnapshotUser = errors.New("wechatauth: snapshot-page user")
	// ErrNoSession means the request reached the package without session data:
	// the handler is not wrapped in Options.Sessions.LoadAndSave.
	ErrNoSession = errors.New("wechatauth: no session in the request context; wrap the handler with Options.Sessions.LoadAndSave")
	// ErrReauthorize means the stored web-auth tokens of a user can no longer be
	// refreshed: the user must go through authorization again.
	ErrReauthorize = errors.New("wechatauth: the user must authorize again")
)

// HTTPStatus returns the status code that fits err when it ends a request:
// 400 for bad state, 403 for unusable users, 429 for too many attempts, 503
// when a store (Redis, say) fails, 504 for timeouts talking to WeChat, 502
// for WeChat's own errors and unreachable WeChat, and 500 for everything else. Custom error handlers can use
// it to keep the default statuses.
func HTTPStatus(err error) int {
	var apiErr *APIError
	var netErr net.Error
	switch {
	case errors.Is(err, ErrInvalidState), errors.Is(err, ErrStateExpired):
		return http.StatusBadRequest
	case errors.Is(err, ErrSnapshotUser):
		return http.StatusForbidden
	case errors.Is(err, ErrTooManyAttempts):
		return http.StatusTooManyRequests
	case errors.Is(err, errStore):
		return http.StatusServiceUnavailable
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return http.StatusGatewayTimeout
	case errors.As(err, &apiErr), errors.Is(err, errUpstream):
		return http.StatusBadGateway
	}
	return http.StatusInternalServerError
}

// errStore marks failures of a store (Users, Tokens, Callbacks or the
// session store).
var errStore = errors.New("store unavailable")

// storeError wraps a failure of the named store.
func storeError(store string, err error) error {
	return fmt.Errorf("wechatauth: %s store: %w: %w", store, errStore, err)
}

// errUpstream marks failures to reach or understand WeChat.
var errUpstream = errors.New("WeChat unreachable or its answer unreadable")
