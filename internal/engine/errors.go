package engine

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
)

// ErrInvalidState means the callback's state is missing, malformed,
// forged, expired, already spent, or belongs to another browser. Faces
// export it as it is, so that errors.Is sees one value.
var ErrInvalidState = errors.New("wechatauth: invalid or unknown state")

// The flow's own conditions, which only it compares; Status and the
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

// Status returns the status code that fits err when it ends a request:
// 400 for a bad state, 403 for a guest or a login the application
// refused, 429 for too many attempts, 503 when a store fails, 500 when
// the platform refuses the site's configuration (err names a fix), 504
// for timeouts, 502 for what upstream reports (the platform's other
// errors, an unreachable platform), and 500 for everything else.
func Status(err error, upstream func(error) bool) int {
	var netErr net.Error
	var refusal *Refusal
	switch {
	case errors.As(err, &refusal):
		return refusal.Status
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
	case upstream(err):
		return http.StatusBadGateway
	}
	return http.StatusInternalServerError
}

// status is Status with the face's idea of upstream.
func (e *Engine[U]) status(err error) int { return Status(err, e.face.Upstream) }

// StoreError wraps a failure of the named store: "session", "callback",
// "user" or "token".
func StoreError(store string, err error) error {
	return &storeFailure{store: store, err: err}
}

// storeFailure is a failure of one of the stores. It is errStore, and
// wraps the store's error.
type storeFailure struct {
	store string
	err   error
}

func (e *storeFailure) Error() string {
	return "wechatauth: " + e.store + " store: " + errStore.Error() + ": " + e.err.Error()
}
func (e *storeFailure) Unwrap() []error { return []error{errStore, e.err} }

// SetupError returns err, a failure whose cause is the site's setup
// rather than the moment, with fix, what to change: it is in the log
// line, and on the error page in debug mode, for the developer.
func SetupError(err error, fix string) error { return &setupError{err: err, fix: fix} }

type setupError struct {
	err error  // what failed
	fix string // what to change
}

func (e *setupError) Error() string { return e.err.Error() + "; fix: " + e.fix }

func (e *setupError) Unwrap() error { return e.err }

// fixOf returns the fix that err names (see SetupError), or "".
func fixOf(err error) string {
	var se *setupError
	if errors.As(err, &se) {
		return se.fix
	}
	return ""
}

// Refusal is a face's own reason to refuse a login (a WeCom non-member,
// say), with the status and the words of the default page: Title and
// Advice, Chinese first, as the flow's own pages are.
type Refusal struct {
	Err           error // what happened, for the log and errors.Is
	Status        int
	Title, Advice string
}

func (r *Refusal) Error() string { return r.Err.Error() }
func (r *Refusal) Unwrap() error { return r.Err }
