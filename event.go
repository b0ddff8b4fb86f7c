package wechatauth

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
)

// EventKind names what happened in a login.
type EventKind int

// The kinds of Event.
const (
	EventRedirect   EventKind = iota + 1 // a round trip to WeChat started
	EventLogin                           // a user logged in through WeChat
	EventDebugLogin                      // the debug bypass logged a user in
	EventRefused                         // the user declined to authorize
	// EventFailure: a request ended on an error page; Event.Err says why.
	// Besides failed logins it counts snapshot-page visitors turned away
	// (Status 403, logged at info level as "snapshot-mode visitor") and
	// store outages (Status 503, logged as "<store> store unavailable").
	EventFailure
)

var eventNames = [...]string{"", "redirect", "login", "debug_login", "refused", "failure"}

// String returns a short name for k, fit for a metrics label.
func (k EventKind) String() string {
	if k > 0 && int(k) < len(eventNames) {
		return eventNames[k]
	}
	return "unknown"
}

// Event is one step of a login, handed to Options.OnEvent for metrics and
// audit. It holds no secret: no token, code or state.
type Event struct {
	Kind   EventKind
	OpenID string // the user of EventLogin and EventDebugLogin
	Scope  Scope  // the scope of EventRedirect
	Err    error  // why an EventFailure failed
	Status int    // the HTTP status of an EventFailure
	Code   int    // WeChat's errcode behind an EventFailure, or 0
}

// event logs e and hands it to Options.OnEvent.
func (a *Auth) event(r *http.Request, e Event) {
	ctx := r.Context()
	log := a.opts.Logger
	switch e.Kind {
	case EventRedirect:
		log.DebugContext(ctx, "wechatauth: redirect to WeChat", "scope", e.Scope, "path", logPath(r.URL.Path))
	case EventLogin:
		log.InfoContext(ctx, "wechatauth: login", "openid", e.OpenID)
	case EventDebugLogin:
		log.WarnContext(ctx, "wechatauth: debug login", "openid", e.OpenID, "remote", r.RemoteAddr)
	case EventRefused:
		log.InfoContext(ctx, "wechatauth: user declined authorization", "path", logPath(r.URL.Path))
	case EventFailure:
		e.Code = errcodeOf(e.Err)
		a.logFailure(r, e)
	}
	if a.opts.OnEvent != nil {
		a.opts.OnEvent(a.hookRequest(r), e)
	}
}

// logFailure logs an EventFailure under the name of what happened: a
// snapshot-page visitor is ordinary traffic, a store that fails is the
// site's outage with what to check, anything else a login that failed.
func (a *Auth) logFailure(r *http.Request, e Event) {
	ctx := r.Context()
	log := a.opts.Logger
	var sf *storeFailure
	switch {
	case errors.Is(e.Err, errSnapshotUser):
		log.InfoContext(ctx, "wechatauth: snapshot-mode visitor: WeChat showed its snapshot page (快照页), whose visitors have no identity; they get a page that asks them to tap 使用完整服务 (Options.SnapshotGuests lets them in as guests)",
			"status", e.Status, "path", logPath(r.URL.Path))
		return
	case errors.As(e.Err, &sf):
		log.ErrorContext(ctx, "wechatauth: "+sf.store+" store unavailable", "status", e.Status, "path", logPath(r.URL.Path), "err", e.Err, "check", storeCheck(sf.store))
		return
	}
	level := slog.LevelWarn
	if e.Status >= 500 {
		level = slog.LevelError
	}
	args := []any{"status", e.Status, "errcode", e.Code, "path", logPath(r.URL.Path), "err", e.Err}
	if fix := fixOf(e.Err); fix != "" {
		args = append(args, "fix", fix)
	}
	log.Log(ctx, level, "wechatauth: login failed", args...)
}

// storeCheck says what to check when the named store fails.
func storeCheck(store string) string {
	field := "Options.Sessions.Store"
	switch store {
	case "callback":
		field = "Options.Callbacks"
	case "user":
		field = "Options.Users"
	case "token":
		field = "Options.Tokens"
	}
	return "the store behind " + field + " (Redis, say) failed: check that it is running and that this instance reaches it (the address its pool dials, password, network, maxclients); (*redisstore.Store).Ping checks a Redis at start"
}

// maxLogPath bounds how much of a request's path a log line quotes.
const maxLogPath = 256

// logPath returns path, cut to maxLogPath bytes with its full length said,
// so that a hostile request cannot write a log line of its own size.
func logPath(path string) string {
	if len(path) <= maxLogPath {
		return path
	}
	return path[:maxLogPath] + "…(" + strconv.Itoa(len(path)) + " bytes)"
}
