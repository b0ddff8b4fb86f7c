package engine

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
)

// event logs ev and hands it to Config.OnEvent.
func (e *Engine[U]) event(r *http.Request, ev Event) {
	ctx := r.Context()
	log := e.cfg.Logger
	switch ev.Kind {
	case EventRedirect:
		log.DebugContext(ctx, "wechatauth: redirect to "+e.cfg.Product.En, "scope", ev.Scope, "path", logPath(r.URL.Path))
	case EventLogin:
		log.InfoContext(ctx, "wechatauth: login", e.cfg.IDName, ev.ID)
	case EventDebugLogin:
		log.WarnContext(ctx, "wechatauth: debug login", e.cfg.IDName, ev.ID, "remote", r.RemoteAddr)
	case EventRefused:
		log.InfoContext(ctx, "wechatauth: user declined authorization", "path", logPath(r.URL.Path))
	case EventFailure:
		ev.Code, _ = e.face.Errcode(ev.Err)
		e.logFailure(r, ev)
	}
	if e.cfg.OnEvent != nil {
		e.cfg.OnEvent(e.hookRequest(r), ev)
	}
}

// logFailure logs an EventFailure under the name of what happened: a
// snapshot-page visitor is ordinary traffic, a store that fails is the
// site's outage with what to check, anything else a login that failed.
func (e *Engine[U]) logFailure(r *http.Request, ev Event) {
	ctx := r.Context()
	log := e.cfg.Logger
	var sf *storeFailure
	switch {
	case errors.Is(ev.Err, errSnapshotUser):
		log.InfoContext(ctx, "wechatauth: snapshot-mode visitor: WeChat showed its snapshot page (快照页), whose visitors have no identity; they get a page that asks them to tap 使用完整服务 (Options.SnapshotGuests lets them in as guests)",
			"status", ev.Status, "path", logPath(r.URL.Path))
		return
	case errors.As(ev.Err, &sf):
		log.ErrorContext(ctx, "wechatauth: "+sf.store+" store unavailable", "status", ev.Status, "path", logPath(r.URL.Path), "err", ev.Err, "check", storeCheck(sf.store))
		return
	}
	level := slog.LevelWarn
	if ev.Status >= 500 {
		level = slog.LevelError
	}
	args := []any{"status", ev.Status, "errcode", ev.Code, "path", logPath(r.URL.Path), "err", ev.Err}
	if fix := fixOf(ev.Err); fix != "" {
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
