package wechattest

import (
	"fmt"
	"net/http"
	"time"
)

// WeCom's JS-SDK (WECOM.md §10): two tickets, each on the Official
// Account's scheme and bookkeeping (ticketChain, jssdk.go), and each
// checked by the same stand-in script.
//
//   - The corp's jsapi_ticket, GET /cgi-bin/get_jsapi_ticket, for
//     wx.config with appId = CorpID: one for the corp, whichever app's
//     token asks.
//   - An app's ticket, GET /cgi-bin/ticket/get?type=agent_config, for
//     wx.agentConfig: one per app, the app being the one whose token asks.
const (
	pathWWJSAPITicket = "/cgi-bin/get_jsapi_ticket"
	pathWWAgentTicket = "/cgi-bin/ticket/get"
	wecomAgentConfig  = "agent_config" // ticket/get's type
)

// WeCom's hourly ticket quotas (WECOM.md §10 [96909]): 400 fetches per
// corp, 100 per app.
const (
	wecomTicketsPerCorp = 400
	wecomTicketsPerApp  = 100
)

// wecomTicketKind is one of WeCom's two JS-SDK tickets: its chains and
// its hourly counters. The corp ticket has one chain, under "", the
// agent_config ticket one per agentid.
//
// Assumption: WeCom's page gives both limits without saying whether the
// two endpoints share their counters; the emulator counts each endpoint
// apart, per corp and per app (the app of the token that asks), on the
// hours of its clock (Beijing time, on the hour), like its daily quotas.
type wecomTicketKind struct {
	chains map[string]*ticketChain
	corp   quota
	apps   map[string]*quota
}

// newWeComTicketKind is a kind with no tickets and WeCom's quotas.
func newWeComTicketKind() wecomTicketKind {
	return wecomTicketKind{
		chains: make(map[string]*ticketChain),
		corp:   quota{limit: wecomTicketsPerCorp, hourly: true},
		apps:   make(map[string]*quota),
	}
}

// issue answers a ticket fetch at now by the app agentID: the ticket of
// the chain under holder, or 45009 when the corp's or the app's quota for
// this hour is spent. Only an answer with a ticket counts.
func (k *wecomTicketKind) issue(now time.Time, holder, agentID string, perApp int) (string, int) {
	app := k.apps[agentID]
	if app == nil {
		app = &quota{limit: perApp, hourly: true}
		k.apps[agentID] = app
	}
	// Both are asked, so that both start a new hour's count.
	corpSpent, appSpent := k.corp.spent(now), app.spent(now)
	if corpSpent || appSpent {
		return "", 45009
	}
	k.corp.use()
	app.use()
	chain := k.chains[holder]
	if chain == nil {
		chain = new(ticketChain)
		k.chains[holder] = chain
	}
	return chain.issue(now), 0
}

// setLimits sets the kind's limits.
func (k *wecomTicketKind) setLimits(perCorp, perApp int) {
	k.corp.limit = perCorp
	for _, q := range k.apps {
		q.limit = perApp
	}
}

// makeStale makes every ticket of the kind issued so far stop working.
func (k *wecomTicketKind) makeStale() {
	for _, c := range k.chains {
		c.makeStale()
	}
}

// handleWeComJSAPITicket serves GET
// /cgi-bin/get_jsapi_ticket?access_token=…: the corp's ticket, for
// wx.config with appId = CorpID (and getConfigSignature of ww.register).
func (s *Server) handleWeComJSAPITicket(w http.ResponseWriter, r *http.Request) {
	s.serveWeComTicket(w, r, false)
}

// handleWeComAgentTicket serves GET
// /cgi-bin/ticket/get?access_token=…&type=agent_config: the ticket of
// the token's app, for wx.agentConfig (and getAgentConfigSignature).
// Another type, or none, is 40058 (assumption: WeCom documents only
// agent_config here; 40058 is its generic "invalid parameter").
func (s *Server) handleWeComAgentTicket(w http.ResponseWriter, r *http.Request) {
	s.serveWeComTicket(w, r, true)
}

// serveWeComTicket answers either ticket fetch, in WeCom's wire format:
// {"errcode":0,"errmsg":"ok","ticket":"…","expires_in":7200}. The token
// is checked as on WeCom's other API calls (41001; 40014 unknown or
// invalidated early; 42001 past its 7200 s; 60020 outside the app's
// trusted IPs; 48002). A chain's ticket is handed out for 7200 s on the
// emulator's clock, each time with expires_in 7200, and keeps working
// 7200 s after the last answer that gave it, as the Official Account's
// getticket does (jssdk.go); [Server.StaleWeComTickets] ends the tickets
// early.
//
// Beyond the hourly quota (400 per corp, 100 per app, each endpoint
// apart; [Server.SetWeComTicketQuota]) the answer is 45009. Assumption:
// WeCom documents the limits but not the errcode of their exhaustion;
// 45009 is WeCom's general "api freq out of limit".
func (s *Server) serveWeComTicket(w http.ResponseWriter, r *http.Request, agent bool) {
	q := r.URL.Query()
	s.mu.Lock()
	agentID, _, errcode := s.checkWeComCallLocked(r, q.Get("access_token"))
	var ticket string
	if errcode == 0 {
		kind, holder := &s.wecom.corpTickets, ""
		if agent {
			kind, holder = &s.wecom.agentTickets, agentID
			if q.Get("type") != wecomAgentConfig {
				errcode = 40058
			}
		}
		if errcode == 0 {
			ticket, errcode = kind.issue(s.nowLocked(), holder, agentID, s.wecom.ticketsPerApp)
		}
	}
	s.mu.Unlock()
	if errcode != 0 {
		s.writeWeComError(w, r, errcode)
		return
	}
	writeJSON(w, r, ticketReply{ErrCode: 0, ErrMsg: "ok", Ticket: ticket, ExpiresIn: int(ticketTTL / time.Second)})
}

// SetWeComTicketQuota sets how many tickets each of WeCom's two ticket
// endpoints (get_jsapi_ticket, ticket/get?type=agent_config) hands out
// per hour of the emulator's clock: perCorp for the corp, whichever app
// asks, and perApp for each app. The defaults are WeCom's, 400 and 100.
// The call after the last gets 45009 (an assumption: WeCom documents no
// errcode for it) until the hour ends, which Advance can bring about; 0
// refuses every fetch. It panics if either is negative.
func (s *Server) SetWeComTicketQuota(perCorp, perApp int) {
	if perCorp < 0 || perApp < 0 {
		panic(fmt.Sprintf("wechattest: SetWeComTicketQuota: got %d per corp and %d per app; both must be 0 or more", perCorp, perApp))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.wecom.corpTickets.setLimits(perCorp, perApp)
	s.wecom.agentTickets.setLimits(perCorp, perApp)
	s.wecom.ticketsPerApp = perApp
}

// StaleWeComTickets makes every WeCom ticket issued so far, the corp's
// and the apps', stop working before its expiry: a wx.config or
// wx.agentConfig signed with one fails with "invalid signature", as when
// WeCom renewed a ticket behind a server that still caches the old one.
// Tickets fetched afterwards work. [Server.StaleTickets] does the same
// for the Official Account's.
func (s *Server) StaleWeComTickets() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.wecom.corpTickets.makeStale()
	s.wecom.agentTickets.makeStale()
}
