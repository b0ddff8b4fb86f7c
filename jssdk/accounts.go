package jssdk

import (
	"fmt"
	"log/slog"
	"net/http"
	"sync"
)

// Accounts signs the pages of several Official Accounts with one handler,
// such as the accounts that authorized a third-party platform (package
// [github.com/wechatauth/wechatauth/component]): each request belongs to
// the account Account names, and is answered by that account's [Signer],
// made by New on the account's first request and kept. The page script
// is the same for every account ([Accounts.ScriptHandler]).
//
// Account and New are required. An Accounts must not be copied after
// first use; it is safe for concurrent use.
type Accounts struct {
	// Account returns the appid of the account whose page made the
	// request, such as the account of the site's host name or of the
	// logged-in user, or "" when the request is of none. It must return
	// only accounts this server serves, never a parameter of the request
	// unchecked: each account's Signer is kept for the life of the
	// Accounts.
	Account func(r *http.Request) string
	// New returns the Signer of the account appID, whose Options.AppID
	// is appID; in component mode with Tickets from the platform's
	// JSAPITickets(appID), which is the authorizer's own ticket. An error
	// answers the request with HTTP 404 (the error goes to Logger), and
	// the next request of the account calls New again.
	New func(appID string) (*Signer, error)
	// Logger receives the errors of New. Default slog.Default().
	Logger *slog.Logger

	made    sync.Map // appid → *Signer, for the path of an account already made: no lock
	mu      sync.Mutex
	signers map[string]*accountSigner
}

// accountSigner is the Signer of one account, made once.
type accountSigner struct {
	ready chan struct{} // closed when s and err are set
	s     *Signer
	err   error
}

// Signer returns the Signer of the account appID, made by New on first
// use, for pages rendered on the server ([Signer.Sign]). Callers that
// ask for the same account at once share one call of New.
func (a *Accounts) Signer(appID string) (*Signer, error) {
	if appID == "" {
		return nil, fmt.Errorf("jssdk: Accounts.Signer: empty appid")
	}
	if s, ok := a.made.Load(appID); ok {
		return s.(*Signer), nil
	}
	if a.New == nil {
		return nil, fmt.Errorf("jssdk: Accounts.New is nil; set it to make each account's Signer")
	}
	a.mu.Lock()
	e, ok := a.signers[appID]
	if !ok {
		if a.signers == nil {
			a.signers = make(map[string]*accountSigner)
		}
		e = &accountSigner{ready: make(chan struct{})}
		a.signers[appID] = e
	}
	a.mu.Unlock()
	if ok {
		<-e.ready
		return e.s, e.err
	}
	defer close(e.ready)
	defer func() {
		if e.err != nil {
			a.mu.Lock()
			delete(a.signers, appID) // a later request tries again
			a.mu.Unlock()
		}
	}()
	e.err = fmt.Errorf("jssdk: Accounts.New(%q) panicked", shortName(appID)) // until New returns
	s, err := a.New(appID)
	switch {
	case err != nil:
		e.err = fmt.Errorf("jssdk: the Signer of account %q: %w", shortName(appID), err)
	case s == nil:
		e.err = fmt.Errorf("jssdk: Accounts.New(%q) returned no Signer and no error", shortName(appID))
	case s.appID != appID:
		e.err = fmt.Errorf("jssdk: Accounts.New(%q) returned the Signer of %q: wx.config would carry another account's appId", appID, s.appID)
	default:
		e.s, e.err = s, nil
		a.made.Store(appID, s)
	}
	return e.s, e.err
}

// Handler serves the page script's requests as [Signer.Handler] does,
// each with the Signer of the account of the request: the wx.config of a
// page carries that account's appId and is signed with its ticket, and a
// refused config renews that account's ticket. A request of no account
// (Account returns "") or of an account New fails for gets HTTP 404 with
// {"error": "<why>"}.
func (a *Accounts) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, ok := a.route(w, r)
		if ok {
			s.serve(w, r)
		}
	})
}

// ScriptHandler serves the page script, the same for every account (see
// [Signer.ScriptHandler]); its data-config is where [Accounts.Handler]
// is mounted.
func (a *Accounts) ScriptHandler() http.Handler {
	return (*Signer)(nil).ScriptHandler() // the script depends on no Signer
}

// route returns the Signer of r's account, or answers 404.
func (a *Accounts) route(w http.ResponseWriter, r *http.Request) (*Signer, bool) {
	var appID string
	if a.Account != nil {
		appID = a.Account(r)
	}
	if appID == "" {
		w.Header()["Cache-Control"] = []string{"no-store"}
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "jssdk: this page belongs to no Official Account whose pages are signed here"})
		return nil, false
	}
	s, err := a.Signer(appID)
	if err != nil {
		log := a.Logger
		if log == nil {
			log = slog.Default()
		}
		log.LogAttrs(r.Context(), slog.LevelWarn, "jssdk: no Signer for the account of a request",
			slog.String("appid", shortName(appID)), slog.String("error", err.Error()))
		w.Header()["Cache-Control"] = []string{"no-store"}
		writeJSON(w, http.StatusNotFound, map[string]string{"error": fmt.Sprintf("jssdk: the pages of account %q are not signed here", shortName(appID))})
		return nil, false
	}
	return s, true
}

// shortName cuts an account's name that the answer and the log quote to
// 64 bytes: Account may hand on what a hostile request holds.
func shortName(appID string) string {
	if len(appID) > 64 {
		return appID[:64] + "…"
	}
	return appID
}
