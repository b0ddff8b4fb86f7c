package wechattest

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/wechatauth/wechatauth/internal/wxspec"
)

// The global access_token's rules, as WeChat documents them.
const (
	globalTTL = 7200 * time.Second
	// overlap is how long a token replaced by a newer /cgi-bin/token
	// fetch keeps working.
	overlap = 5 * time.Minute
	// stableRenewal: in normal mode stable_token hands out a new token once
	// the current one has no more than this left, so every answer has
	// expires_in >= 300.
	stableRenewal = 5 * time.Minute
	// forceGap and forcePerDay limit stable_token's force_refresh.
	forceGap    = 30 * time.Second
	forcePerDay = 20
	// defaultTokenQuota is /cgi-bin/token's daily quota in WeChat's older
	// tables.
	defaultTokenQuota = 2000
	// globalTokenBytes is the random part of a token: 96 bytes are 128
	// characters, long like WeChat's and within the 512 clients must store.
	globalTokenBytes = 96
)

// chinaTime is the zone of WeChat's day: daily quotas start anew at
// midnight in Beijing.
var chinaTime = time.FixedZone("CST", 8*60*60)

// globalToken is one global access_token.
type globalToken struct {
	expiry time.Time // 7200 s after issue
	// retired is when it stops working before expiry because a newer
	// token replaced it; zero while it has not been replaced.
	retired time.Time
}

// noLimit is a quota's limit when there is none.
const noLimit = -1

// quota is one of WeChat's limits on calls: limit calls a day of the
// emulator's clock, midnight to midnight in Beijing, or, when hourly, an
// hour of it, on the hour; or noLimit.
type quota struct {
	limit  int
	hourly bool
	window string // the day or hour used counts
	used   int
}

// spent reports whether no call is left in the window of now, starting
// the count afresh in a new window.
func (q *quota) spent(now time.Time) bool {
	window := dayOf(now)
	if q.hourly {
		window = hourOf(now)
	}
	if q.window != window {
		q.window, q.used = window, 0
	}
	return q.limit != noLimit && q.used >= q.limit
}

// use counts one call in the window spent last looked at.
func (q *quota) use() { q.used++ }

// setLimit sets the limit for method, which panics on a negative n.
func (q *quota) setLimit(method string, n int) {
	if n < 0 {
		panic(fmt.Sprintf("wechattest: %s: n is %d; it must be 0 or more", method, n))
	}
	q.limit = n
}

// dayOf names the WeChat day of t.
func dayOf(t time.Time) string {
	return t.In(chinaTime).Format(time.DateOnly)
}

// hourOf names the hour of t, Beijing time.
func hourOf(t time.Time) string {
	return t.In(chinaTime).Format("2006-01-02T15")
}

// globalReply is the answer of both global-token endpoints.
type globalReply struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
}

// SetTokenQuota sets how many tokens /cgi-bin/token hands out per day of
// the emulator's clock (midnight to midnight, Beijing time); the next fetch
// gets 45009. The default is 2000, WeChat's documented quota; 0 refuses
// every fetch. stable_token has quotas of its own and is not affected. It
// panics if n is negative.
func (s *Server) SetTokenQuota(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokenQuota.setLimit("SetTokenQuota", n)
}

// handleGlobalToken serves GET /cgi-bin/token: a new global access_token
// at every call. The previous token of this endpoint keeps working for
// five more minutes and then gets 40001, so two fetchers that do not share
// their token end up invalidating each other. Tokens of stable_token are
// not affected: WeChat keeps the two apart.
func (s *Server) handleGlobalToken(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if code := s.checkCredentials(q.Get("appid"), q.Get("secret"), q.Get("grant_type")); code != 0 {
		writeError(w, r, code)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.nowLocked()
	if s.tokenQuota.spent(now) {
		writeError(w, r, 45009)
		return
	}
	s.tokenQuota.use()
	if old := s.globals[s.plainToken]; old != nil && old.retired.IsZero() {
		old.retired = now.Add(overlap)
	}
	s.plainToken = s.mintGlobalLocked(now)
	writeJSON(w, r, globalReply{AccessToken: s.plainToken, ExpiresIn: int(globalTTL / time.Second)})
}

// stableRequest is the JSON body of /cgi-bin/stable_token.
type stableRequest struct {
	GrantType    string `json:"grant_type"`
	AppID        string `json:"appid"`
	Secret       string `json:"secret"`
	ForceRefresh bool   `json:"force_refresh"`
}

// handleStableToken serves POST /cgi-bin/stable_token. It keeps a chain of
// its own, apart from /cgi-bin/token's ("completely isolated, they do not
// affect each other", says WeChat): fetches of either endpoint never
// retire the other's tokens, and tokens of both work on the API.
//
// Normal mode returns the current token while it has more than five
// minutes left, with the seconds it has left as expires_in; after that it
// issues a new one, and the old one keeps working until its own expiry.
//
// force_refresh issues a new token at once and retires the previous one
// at once: the mode exists for a leaked token. WeChat allows it 20 times a
// day, at least 30 s apart; beyond 20 the emulator answers 45009 (daily
// quota), and within 30 s 45011 (the "too frequent, retry later" code of
// the endpoint's error table). WeChat's page only says a refresh within
// 30 s "does not refresh"; the emulator makes that visible as an error
// rather than handing back a token the caller believes is new.
func (s *Server) handleStableToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeError(w, r, 43002)
		return
	}
	var req stableRequest
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	if err != nil || json.Unmarshal(body, &req) != nil {
		// The endpoint's error table has no code for a body that is not
		// JSON; 47001 is WeChat's global "data format error". 40002 stays
		// for a readable body with the wrong grant_type.
		writeError(w, r, 47001)
		return
	}
	if code := s.checkCredentials(req.AppID, req.Secret, req.GrantType); code != 0 {
		writeError(w, r, code)
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.nowLocked()
	cur := s.globals[s.stableToken]
	if !req.ForceRefresh {
		if cur != nil && cur.expiry.Sub(now) > stableRenewal {
			writeJSON(w, r, globalReply{AccessToken: s.stableToken, ExpiresIn: int(cur.expiry.Sub(now) / time.Second)})
			return
		}
	} else {
		switch {
		case s.forced.spent(now):
			writeError(w, r, 45009)
			return
		case !s.lastForce.IsZero() && now.Sub(s.lastForce) < forceGap:
			writeError(w, r, 45011)
			return
		}
		s.forced.use()
		s.lastForce = now
		if cur != nil && cur.retired.IsZero() {
			cur.retired = now
		}
	}
	s.stableToken = s.mintGlobalLocked(now)
	writeJSON(w, r, globalReply{AccessToken: s.stableToken, ExpiresIn: int(globalTTL / time.Second)})
}

// checkCredentials checks the appid, secret and grant_type of a global
// token request, in that order. Only the Official Account has a global
// access_token: the website app's appid is 40013.
func (s *Server) checkCredentials(appID, secret, grantType string) int {
	if code := s.checkApp(appID); code != 0 {
		return code
	}
	switch {
	case secret == "":
		return 41004
	case subtle.ConstantTimeCompare([]byte(secret), []byte(s.AppSecret)) != 1:
		return 40125
	case grantType != "client_credential":
		return 40002
	}
	return 0
}

// mintGlobalLocked records a new global token issued at now. The caller
// holds s.mu.
func (s *Server) mintGlobalLocked(now time.Time) string {
	t := uniqueToken(globalTokenBytes, func(t string) bool { _, ok := s.globals[t]; return ok })
	s.globals[t] = &globalToken{expiry: now.Add(globalTTL)}
	return t
}

// checkGlobalLocked checks the access_token of a cgi-bin call: 41001
// missing, 40014 malformed (not of WeChat's URL-safe alphabet, or too
// long), 40001 unknown (a web-authorization token too) or retired by a
// newer one, 42001 expired. The caller holds s.mu.
func (s *Server) checkGlobalLocked(token string) int {
	if token == "" {
		return 41001
	}
	if !wxspec.Valid(token, wxspec.MaxToken) {
		return 40014
	}
	t, ok := s.globals[token]
	now := s.nowLocked()
	switch {
	case !ok:
		return 40001
	case !t.retired.IsZero() && t.retired.Before(t.expiry) && !now.Before(t.retired):
		return 40001
	case !now.Before(t.expiry):
		return 42001
	}
	return 0
}
