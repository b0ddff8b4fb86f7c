package wecom

import (
	"net/http"
	"strings"

	"github.com/wechatauth/wechatauth"
	"github.com/wechatauth/wechatauth/internal/engine"
)

// EventKind names what happened in a login: the kinds of the Official
// Account's face, so that one metrics hook can count both.
type EventKind = wechatauth.EventKind

// The kinds of Event.
const (
	EventRedirect   = wechatauth.EventRedirect   // a round trip to WeCom started
	EventLogin      = wechatauth.EventLogin      // a member (or an allowed non-member) logged in through WeCom
	EventDebugLogin = wechatauth.EventDebugLogin // the debug bypass logged a member in
	EventRefused    = wechatauth.EventRefused    // the member declined the consent or the Web login
	// EventFailure: a request ended on an error page; Event.Err says why.
	// A non-member turned away is one (Status 403, Err wraps ErrNotMember).
	EventFailure = wechatauth.EventFailure
)

// Event is one step of a login, handed to Options.OnEvent for metrics and
// audit. It holds no secret: no token, code, ticket or state. It is not
// the Official Account's wechatauth.Event, whose OpenID field would here
// hold a member's userid one time and a stranger's openid the next: a
// WeCom event names each in its own field.
type Event struct {
	Kind EventKind
	// UserID is the member of EventLogin and EventDebugLogin, as WeCom
	// writes it ("CorpId/userid" for a member of a linked corp); OpenID
	// is the non-member of an EventLogin. One of them is set for those
	// kinds, neither for the others.
	UserID string
	OpenID string
	Scope  Scope // the scope of EventRedirect
	Err    error // why an EventFailure failed
	Status int   // the HTTP status of an EventFailure
	Code   int   // WeCom's errcode behind an EventFailure, or 0
}

// eventHook returns the flow's hook for onEvent (Options.OnEvent), which
// is handed the flow's events as Events; nil for nil.
func eventHook(onEvent func(r *http.Request, e Event)) func(r *http.Request, e engine.Event) {
	if onEvent == nil {
		return nil
	}
	return func(r *http.Request, e engine.Event) {
		ev := Event{Kind: EventKind(e.Kind), Scope: Scope(e.Scope), Err: e.Err, Status: e.Status, Code: e.Code}
		if openID, ok := strings.CutPrefix(e.ID, openIDPrefix); ok {
			ev.OpenID = openID
		} else {
			ev.UserID = e.ID
		}
		onEvent(r, ev)
	}
}
