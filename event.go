package wechatauth

import (
	"net/http"

	"github.com/wechatauth/wechatauth/internal/engine"
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
	// AppID is the Official Account of OpenID in component mode
	// (User.AppID), empty otherwise.
	AppID  string
	Scope  Scope // the scope of EventRedirect
	Err    error // why an EventFailure failed
	Status int   // the HTTP status of an EventFailure
	Code   int   // WeChat's errcode behind an EventFailure, or 0
}

// eventHook returns the flow's hook for onEvent (Options.OnEvent), which
// is handed the flow's events as Events; nil for nil.
func eventHook(onEvent func(r *http.Request, e Event)) func(r *http.Request, e engine.Event) {
	if onEvent == nil {
		return nil
	}
	return func(r *http.Request, e engine.Event) {
		appID, openID := splitKey(e.ID)
		onEvent(r, Event{Kind: EventKind(e.Kind), OpenID: openID, AppID: appID, Scope: Scope(e.Scope), Err: e.Err, Status: e.Status, Code: e.Code})
	}
}
