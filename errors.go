package wechatauth

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"

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
	ErrInvalidState = errors.New("wechatauth: invalid or unknown state")
	// ErrReauthorize means the stored web-auth tokens of a user can no
	// longer be refreshed: the user must go through authorization again
	// (see Auth.Reauthorize).
	ErrReauthorize = errors.New("wechatauth: the user must authorize again")
)

// The package's own conditions, which only it compares; HTTPStatus and the
// default page tell them apart.
var (
	errStateExpired    = fmt.Errorf("%w: the state expired", ErrInvalidState)
	errTooManyAttempts = errors.New("wechatauth: too many authorization attempts")
	errSnapshotUser    = errors.New("wechatauth: snapshot-page user, whose openid is virtual")
	errLoginDenied     = errors.New("wechatauth: the application refused the login (Options.OnLogin)")
	errNoSession       = errors.New("wechatauth: no session in the request context; wrap the handler with Options.Sessions.LoadAndSave")
	// errStore marks failures of a store (Users, Tokens, Callbacks or the
	// session store).
	errStore = errors.New("store unavailable")
)

// HTTPStatus returns the status code that fits err when it ends a request:
// 400 for a bad state, 403 for a snapshot-page visitor, 429 for too many
// attempts, 503 when a store (Redis, say) fails, 500 when WeChat refuses
// the site's configuration (a wrong AppSecret, say), 504 for timeouts
// talking to WeChat, 502 for WeChat's other errors and unreachable WeChat,
// and 500 for everything else. Custom error handlers use it to keep the default
// statuses.
func HTTPStatus(err error) int {
	var apiErr *mp.Error
	var netErr net.Error
	switch {
	case errors.Is(err, ErrInvalidState):
		return http.StatusBadRequest
	case errors.Is(err, errSnapshotUser), errors.Is(err, errLoginDenied):
		return http.StatusForbidden
	case errors.Is(err, errTooManyAttempts):
		return http.StatusTooManyRequests
	case errors.Is(err, errStore):
		return http.StatusServiceUnavailable
	case fixOf(err) != "":
		return http.StatusInternalServerError // the site's setup: trying again will not help
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return http.StatusGatewayTimeout
	case errors.As(err, &apiErr), errors.Is(err, mp.ErrUpstream):
		return http.StatusBadGateway
	}
	return http.StatusInternalServerError
}

// storeError wraps a failure of the named store.
func storeError(store string, err error) error {
	return &storeFailure{store: store, err: err}
}

// storeFailure is a failure of one of the stores: "session", "callback",
// "user" or "token". It is errStore, and wraps the store's error.
type storeFailure struct {
	store string
	err   error
}

func (e *storeFailure) Error() string {
	return "wechatauth: " + e.store + " store: " + errStore.Error() + ": " + e.err.Error()
}
func (e *storeFailure) Unwrap() []error { return []error{errStore, e.err} }

// setupError is a failure whose cause is the site's setup rather than the
// moment: it names the fix, in the log line, and on the error page in
// debug mode (Options.DebugBypass), for the developer.
type setupError struct {
	err error  // what failed
	fix string // what to change
}

func (e *setupError) Error() string { return e.err.Error() + "; fix: " + e.fix }

func (e *setupError) Unwrap() error { return e.err }

// fixOf returns the fix that err names, or "".
func fixOf(err error) string {
	var se *setupError
	if errors.As(err, &se) {
		return se.fix
	}
	return ""
}

// refusedUpstream reports whether err is WeChat's refusal (an errcode), as
// opposed to a failure to reach WeChat or of a store.
func refusedUpstream(err error) bool {
	var apiErr *mp.Error
	return errors.As(err, &apiErr)
}

// errcodeOf returns WeChat's errcode behind err, or 0.
func errcodeOf(err error) int {
	var apiErr *mp.Error
	if errors.As(err, &apiErr) {
		return apiErr.Code
	}
	return 0
}
