package wechattest

import (
	"crypto/sha1"
	"crypto/subtle"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"time"
)

// ticketTTL is the life of a jsapi_ticket (WECHAT.md §12).
const ticketTTL = 7200 * time.Second

// jsTicket is one jsapi_ticket the emulator issued.
type jsTicket struct {
	// renew is when getticket stops handing it out and issues a new one:
	// ticketTTL after it was issued.
	renew time.Time
	// expiry is when it stops working: ticketTTL after the last answer
	// that gave it, so that every answer's expires_in holds.
	expiry time.Time
	stale  bool // StaleTickets: it no longer signs a wx.config
}

// ticketChain is the tickets of one kind for one holder: the Official
// Account's jsapi_ticket, a WeCom corp's, or one WeCom app's
// agent_config ticket. The zero value is an empty chain. The server's
// s.mu guards it.
type ticketChain struct {
	tickets map[string]*jsTicket
	current string // the ticket an answer hands out
}

// issue is the ticket to answer with at now: the current one, or a new
// one when there is none, it is stale, or ticketTTL has passed since it
// was issued. The ticket works ticketTTL after now. Tickets past their
// expiry are forgotten.
func (c *ticketChain) issue(now time.Time) string {
	if c.tickets == nil {
		c.tickets = make(map[string]*jsTicket)
	}
	for t, jt := range c.tickets {
		if !now.Before(jt.expiry) {
			delete(c.tickets, t)
		}
	}
	cur := c.tickets[c.current]
	if cur == nil || cur.stale || !now.Before(cur.renew) {
		c.current = uniqueToken(64, func(t string) bool { _, ok := c.tickets[t]; return ok })
		cur = &jsTicket{renew: now.Add(ticketTTL)}
		c.tickets[c.current] = cur
	}
	cur.expiry = now.Add(ticketTTL)
	return c.current
}

// makeStale makes every ticket of c issued so far stop working.
func (c *ticketChain) makeStale() {
	for _, t := range c.tickets {
		t.stale = true
	}
}

// signs reports whether signature is that of a config signed at now
// with a ticket of c that still works, for nonce, timestamp ts and url.
// WECHAT.md §12 (and WECOM.md §10, the same scheme): keys sorted, values
// raw, SHA-1 in lowercase hex.
func (c *ticketChain) signs(now time.Time, nonce, ts, url, signature string) bool {
	for ticket, t := range c.tickets {
		if t.stale || !now.Before(t.expiry) {
			continue
		}
		sum := sha1.Sum([]byte("jsapi_ticket=" + ticket + "&noncestr=" + nonce + "&timestamp=" + ts + "&url=" + url))
		if subtle.ConstantTimeCompare([]byte(hex.EncodeToString(sum[:])), []byte(signature)) == 1 {
			return true
		}
	}
	return false
}

// ticketReply is getticket's answer, its fields in the order of WeChat's
// documentation.
type ticketReply struct {
	ErrCode   int    `json:"errcode"`
	ErrMsg    string `json:"errmsg"`
	Ticket    string `json:"ticket"`
	ExpiresIn int    `json:"expires_in"`
}

// handleTicket serves GET /cgi-bin/ticket/getticket?access_token=…&type=jsapi.
// The access token is checked as for every cgi-bin call (41001, 40014,
// 40001, 42001); a type other than jsapi is 40097; beyond SetTicketQuota's
// daily quota, 45009.
//
// One ticket serves the account at a time, whichever access token asks:
// getticket hands out the same ticket for 7200 seconds after it issued it,
// always with expires_in 7200, and then a new one. A ticket keeps working
// 7200 seconds after the last answer that gave it, so an older ticket
// still works for a while after a newer one appeared. WeChat's
// documentation says only that a ticket is valid 7200 seconds and must be
// cached by the caller; the rest is what developers report of real
// WeChat on its community forum: repeated calls within the validity give
// the same ticket with expires_in 7200, unlike /cgi-bin/token, and an old
// ticket still signed configs hours after a new one was issued.
func (s *Server) handleTicket(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.authorizerTicketLocked(w, r) {
		return // an authorizer's token: its own ticket (component_authorizer.go)
	}
	if code := s.checkGlobalLocked(q.Get("access_token")); code != 0 {
		writeError(w, r, code)
		return
	}
	if q.Get("type") != "jsapi" {
		writeError(w, r, 40097)
		return
	}
	now := s.nowLocked()
	if s.ticketQuota.spent(now) {
		writeError(w, r, 45009)
		return
	}
	s.ticketQuota.use()
	ticket := s.tickets.issue(now)
	writeJSON(w, r, ticketReply{ErrCode: 0, ErrMsg: "ok", Ticket: ticket, ExpiresIn: int(ticketTTL / time.Second)})
}

// SetTicketQuota sets how many answers with a ticket
// /cgi-bin/ticket/getticket gives per day of the emulator's clock
// (midnight to midnight, Beijing time), as SetTokenQuota does for
// /cgi-bin/token; the next call gets 45009 ("reach max api daily quota
// limit") until the day ends, which Advance can bring about. WeChat calls
// the quota small without publishing a number, so by default there is
// none; 0 refuses every call, and math.MaxInt lifts the quota again. It
// panics if n is negative.
func (s *Server) SetTicketQuota(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ticketQuota.setLimit("SetTicketQuota", n)
}

// StaleTickets makes every jsapi_ticket issued so far stop working before
// its expiry: a wx.config signed with one fails with "config:invalid
// signature", as when WeChat renewed the ticket behind a server that still
// caches the old one. Tickets fetched afterwards work.
func (s *Server) StaleTickets() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tickets.makeStale()
	s.staleAuthorizerTicketsLocked()
}

// jweixin is the emulator's stand-in for WeChat's jweixin-1.6.0.js.
//
//go:embed jweixin.js
var jweixin []byte

// handleJWeixin serves the stand-in for jweixin-1.6.0.js at the path of
// WeChat's own script.
func (s *Server) handleJWeixin(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(jweixin)
}

// jsConfig is what the stand-in script sends to be verified: the page's
// wx.config, or its wx.agentConfig on a WeCom page, and the URL the script
// found the page at.
type jsConfig struct {
	// API is "agentConfig" for a wx.agentConfig; empty for a wx.config.
	API       string          `json:"api"`
	AppID     string          `json:"appId"`     // wx.config: the appid, or a WeCom page's CorpID
	CorpID    string          `json:"corpid"`    // wx.agentConfig
	AgentID   json.RawMessage `json:"agentid"`   // wx.agentConfig: a number or a string of digits
	Timestamp json.RawMessage `json:"timestamp"` // a number or a string of digits, as wx.config takes either
	NonceStr  string          `json:"nonceStr"`
	Signature string          `json:"signature"`
	URL       string          `json:"url"`
}

// Names of the configs the stand-in script verifies, which begin the
// errMsg of their answer.
const (
	apiConfig      = "config"
	apiAgentConfig = "agentConfig"
)

// handleJSVerify serves POST /open/js/verify for the stand-in script, which
// runs on the app's origin: hence the CORS header, and a text/plain body
// so that browsers send no preflight. It answers {"errMsg":"config:ok"}
// when the signature is the one of an issued ticket, still valid and not
// stale, and {"errMsg":"config:invalid signature"} otherwise, as WeChat's
// client reports to wx.error. A wx.agentConfig's answer begins
// "agentConfig:" instead (assumption: WeCom documents the
// fail callback, not its text).
func (s *Server) handleJSVerify(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	switch r.Method {
	case http.MethodOptions:
		w.Header().Set("Access-Control-Allow-Methods", "POST")
		w.Header().Set("Access-Control-Allow-Headers", "Content-Type")
		w.WriteHeader(http.StatusNoContent)
		return
	case http.MethodPost:
	default:
		w.Header().Set("Allow", "POST, OPTIONS")
		http.Error(w, "wechattest: POST the wx.config to verify", http.StatusMethodNotAllowed)
		return
	}
	var c jsConfig
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	if err != nil || json.Unmarshal(body, &c) != nil {
		writeJSON(w, r, map[string]string{"errMsg": "config:fail, the config is not JSON"})
		return
	}
	api := apiConfig
	if c.API == apiAgentConfig {
		api = apiAgentConfig
	}
	msg := api + ":invalid signature"
	if s.verify(c) {
		msg = api + ":ok"
	}
	writeJSON(w, r, map[string]string{"errMsg": msg})
}

// verify reports whether c is signed, for its URL, with a ticket the
// emulator issued that still works, and of the kind c needs: a wx.config
// with the Official Account's appid needs the account's jsapi_ticket, one
// with the CorpID the corp's ticket (get_jsapi_ticket), one with an
// authorizer's appid that authorizer's own ticket (never another
// account's, COMPONENT.md §9), and a
// wx.agentConfig the ticket of the app it names (ticket/get with type
// agent_config). The corp ticket does not sign a wx.agentConfig, nor an
// app's ticket a wx.config or another app's wx.agentConfig.
func (s *Server) verify(c jsConfig) bool {
	ts := unquote(c.Timestamp)
	if _, err := strconv.ParseInt(ts, 10, 64); err != nil || c.NonceStr == "" || c.URL == "" {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var chain *ticketChain
	switch {
	case c.API == apiAgentConfig:
		if subtle.ConstantTimeCompare([]byte(c.CorpID), []byte(s.CorpID)) == 1 {
			chain = s.wecom.agentTickets.chains[unquote(c.AgentID)]
		}
	case subtle.ConstantTimeCompare([]byte(c.AppID), []byte(s.AppID)) == 1:
		chain = &s.tickets
	case subtle.ConstantTimeCompare([]byte(c.AppID), []byte(s.CorpID)) == 1:
		chain = s.wecom.corpTickets.chains[""]
	default:
		chain = s.authorizerChainLocked(c.AppID) // an authorizer's own ticket
	}
	return chain != nil && chain.signs(s.nowLocked(), c.NonceStr, ts, c.URL, c.Signature)
}

// unquote is raw, a JSON number or string, as the text it holds.
func unquote(raw json.RawMessage) string {
	if v, err := strconv.Unquote(string(raw)); err == nil {
		return v
	}
	return string(raw)
}
