package wechattest_test

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wechatauth/wechatauth/wechattest"
)

const (
	wwJSAPITicket = "/cgi-bin/get_jsapi_ticket"
	wwAgentTicket = "/cgi-bin/ticket/get"
	wwPage        = "https://corp.example/wecom/jssdk?tab=1"
	wwOK          = "config:ok"
	wwInvalid     = "config:invalid signature"
	wwAgentOK     = "agentConfig:ok"
	wwAgentBad    = "agentConfig:invalid signature"
	secondAgent   = "1000003"
	secondSecret  = "second-app-secret"
)

// wwTicket fetches a ticket, the corp's or (agent) the token's app's,
// and checks the answer's bytes.
func wwTicket(t *testing.T, s *wechattest.Server, token string, agent bool) string {
	t.Helper()
	a := wwTicketAnswer(t, s, token, agent)
	wwWant(t, a, 0)
	ticket, _ := a.fields["ticket"].(string)
	if want := `{"errcode":0,"errmsg":"ok","ticket":"` + ticket + `","expires_in":7200}`; a.body != want || len(ticket) < 64 || !isURLSafe(ticket) {
		t.Fatalf("ticket answer: got %q, want %q with a ticket of 64+ characters of [A-Za-z0-9_-]", a.body, want)
	}
	return ticket
}

func wwTicketAnswer(t *testing.T, s *wechattest.Server, token string, agent bool) wwAnswer {
	t.Helper()
	if agent {
		return wwGet(t, s, wwAgentTicket, "access_token", token, "type", "agent_config")
	}
	return wwGet(t, s, wwJSAPITicket, "access_token", token)
}

// withSecondApp adds a second app to s and returns its token.
func withSecondApp(t *testing.T, s *wechattest.Server) string {
	t.Helper()
	s.AddWeComApp(wechattest.WeComApp{AgentID: secondAgent, Secret: secondSecret})
	return wwTokenOf(t, s, secondSecret)
}

// wwSign signs a WeCom config with ticket for url, as a server does.
func wwSign(ticket, url string) (nonce string, ts int64, signature string) {
	nonce, ts = "Wm3WZYTPz0wzccnW", 1414587457
	sum := sha1.Sum([]byte(fmt.Sprintf("jsapi_ticket=%s&noncestr=%s&timestamp=%d&url=%s", ticket, nonce, ts, url)))
	return nonce, ts, hex.EncodeToString(sum[:])
}

// postVerify posts body to the stand-in's verification endpoint and
// returns its errMsg.
func postVerify(t *testing.T, s *wechattest.Server, body map[string]any) string {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := s.Client().Post(s.URL+pathJSVerify, "text/plain", strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct{ ErrMsg string }
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatal(err)
	}
	return r.ErrMsg
}

// wwConfig asks the emulator, as the stand-in script does, whether a
// wx.config with the CorpID signed with ticket for signedURL passes on a
// page at pageURL (the URL the script sends: without the fragment).
func wwConfig(t *testing.T, s *wechattest.Server, ticket, signedURL, pageURL string) string {
	t.Helper()
	nonce, ts, sig := wwSign(ticket, signedURL)
	return postVerify(t, s, map[string]any{"appId": s.CorpID, "timestamp": ts, "nonceStr": nonce, "signature": sig, "url": pageURL, "beta": true})
}

// wwAgentConfig is wwConfig for a wx.agentConfig of the app agentID.
func wwAgentConfig(t *testing.T, s *wechattest.Server, agentID any, ticket, signedURL, pageURL string) string {
	t.Helper()
	nonce, ts, sig := wwSign(ticket, signedURL)
	return postVerify(t, s, map[string]any{"api": "agentConfig", "corpid": s.CorpID, "agentid": agentID, "timestamp": fmt.Sprint(ts), "nonceStr": nonce, "signature": sig, "url": pageURL})
}

func TestWeComTicketBytes(t *testing.T) {
	s := newServer(t)
	main, second := wwToken(t, s), withSecondApp(t, s)
	corp := wwTicket(t, s, main, false)
	if again := wwTicket(t, s, second, false); again != corp {
		t.Errorf("the corp ticket with the second app's token: got %q, want the corp's one ticket %q", again, corp)
	}
	agent := wwTicket(t, s, main, true)
	other := wwTicket(t, s, second, true)
	if agent == corp || other == corp || agent == other {
		t.Errorf("got corp %q, main app %q, second app %q; want three tickets", corp, agent, other)
	}
	if again := wwTicket(t, s, main, true); again != agent {
		t.Errorf("the main app's ticket again: got %q, want %q", again, agent)
	}
}

func TestWeComTicketErrors(t *testing.T) {
	s := newServer(t)
	for _, agent := range []bool{false, true} {
		path := wwJSAPITicket
		if agent {
			path = wwAgentTicket
		}
		t.Run(path, func(t *testing.T) {
			expired := wwToken(t, s)
			s.Advance(2 * time.Hour)
			wwWant(t, wwGet(t, s, path, "type", "agent_config"), 41001)
			wwWant(t, wwTicketAnswer(t, s, strings.Repeat("A", 128), agent), 40014)
			wwWant(t, wwTicketAnswer(t, s, expired, agent), 42001)
			stale := wwToken(t, s)
			s.InvalidateWeComTokens()
			wwWant(t, wwTicketAnswer(t, s, stale, agent), 40014)
			s.FailNext(path, -1)
			wwWant(t, wwTicketAnswer(t, s, wwToken(t, s), agent), -1)
		})
	}
	t.Run("type", func(t *testing.T) {
		tok := wwToken(t, s)
		wwWant(t, wwGet(t, s, wwAgentTicket, "access_token", tok), 40058)
		wwWant(t, wwGet(t, s, wwAgentTicket, "access_token", tok, "type", "jsapi"), 40058)
	})
	t.Run("untrusted IP", func(t *testing.T) {
		s.SetWeComTrustedIPs("203.0.113.7")
		tok := wwToken(t, s)
		for _, agent := range []bool{false, true} {
			a := wwTicketAnswer(t, s, tok, agent)
			wwWant(t, a, 60020)
			if !strings.Contains(a.body, "from ip: 127.0.0.1") {
				t.Errorf("60020: got %q, want the caller's address", a.body)
			}
		}
	})
}

// Each ticket is handed out for 7200 s, each time with expires_in 7200,
// and works 7200 s after the last answer that gave it.
func TestWeComTicketOnePerExpiry(t *testing.T) {
	for _, agent := range []bool{false, true} {
		t.Run(fmt.Sprint("agent=", agent), func(t *testing.T) {
			s := newServer(t)
			check := func(ticket, want string) {
				t.Helper()
				got, ok := wwConfig(t, s, ticket, wwPage, wwPage), wwOK
				if agent {
					got, ok = wwAgentConfig(t, s, s.AgentID, ticket, wwPage, wwPage), wwAgentOK
				}
				if (got == ok) != (want == "ok") {
					t.Errorf("ticket %.8s…: got %q, want %s", ticket, got, want)
				}
			}
			first := wwTicket(t, s, wwToken(t, s), agent)
			s.Advance(time.Hour)
			if again := wwTicket(t, s, wwToken(t, s), agent); again != first {
				t.Fatalf("an hour on: got a new ticket, want the same")
			}
			s.Advance(time.Hour)
			second := wwTicket(t, s, wwToken(t, s), agent)
			if second == first {
				t.Fatalf("7200 s after it was issued: got the same ticket, want a new one")
			}
			check(first, "ok")
			check(second, "ok")
			s.Advance(time.Hour) // two hours after the last answer with first
			check(first, "invalid")
			check(second, "ok")
		})
	}
}

func TestWeComTicketStale(t *testing.T) {
	s := newServer(t)
	tok := wwToken(t, s)
	corp, agent := wwTicket(t, s, tok, false), wwTicket(t, s, tok, true)
	jsapiTicket(t, s) // the Official Account has a ticket too
	s.StaleTickets()  // the Official Account's only
	if got := wwConfig(t, s, corp, wwPage, wwPage); got != wwOK {
		t.Errorf("corp ticket after StaleTickets: got %q, want %q", got, wwOK)
	}
	oa := jsapiTicket(t, s)
	s.StaleWeComTickets()
	if got := wwConfig(t, s, corp, wwPage, wwPage); got != wwInvalid {
		t.Errorf("stale corp ticket: got %q, want %q", got, wwInvalid)
	}
	if got := wwAgentConfig(t, s, s.AgentID, agent, wwPage, wwPage); got != wwAgentBad {
		t.Errorf("stale agent ticket: got %q, want %q", got, wwAgentBad)
	}
	if got := verify(t, s, oa, wwPage, wwPage); got != wwOK {
		t.Errorf("the Official Account's ticket after StaleWeComTickets: got %q, want %q", got, wwOK)
	}
	corp2, agent2 := wwTicket(t, s, tok, false), wwTicket(t, s, tok, true)
	if corp2 == corp || agent2 == agent {
		t.Fatalf("after StaleWeComTickets: got the stale tickets again, want new ones")
	}
	if got := wwConfig(t, s, corp2, wwPage, wwPage); got != wwOK {
		t.Errorf("corp ticket fetched after StaleWeComTickets: got %q, want %q", got, wwOK)
	}
	if got := wwAgentConfig(t, s, s.AgentID, agent2, wwPage, wwPage); got != wwAgentOK {
		t.Errorf("agent ticket fetched after StaleWeComTickets: got %q, want %q", got, wwAgentOK)
	}
}

// startOfHour moves s's clock to the start of an hour, so that a test's
// calls fall within one hour of it.
func startOfHour(s *wechattest.Server) {
	now := time.Now()
	s.Advance(now.Truncate(time.Hour).Add(time.Hour).Sub(now) + time.Second)
}

func TestWeComTicketQuota(t *testing.T) {
	s := newServer(t)
	startOfHour(s)
	main, second := wwToken(t, s), withSecondApp(t, s)
	for i := 0; i < 100; i++ {
		wwWant(t, wwTicketAnswer(t, s, main, true), 0)
	}
	a := wwTicketAnswer(t, s, main, true)
	wwWant(t, a, 45009)
	if !strings.HasPrefix(a.body, `{"errcode":45009,"errmsg":"api freq out of limit, hint: [`) {
		t.Errorf("45009: got %q, want WeCom's shape", a.body)
	}
	// Per app, and per endpoint.
	wwWant(t, wwTicketAnswer(t, s, second, true), 0)
	wwWant(t, wwTicketAnswer(t, s, main, false), 0)
	s.Advance(time.Hour)
	wwWant(t, wwTicketAnswer(t, s, wwToken(t, s), true), 0)

	// The corp's quota, whichever app asks.
	s.SetWeComTicketQuota(3, 100)
	s.Advance(time.Hour)
	main, second = wwToken(t, s), wwTokenOf(t, s, secondSecret)
	wwWant(t, wwTicketAnswer(t, s, main, false), 0)
	wwWant(t, wwTicketAnswer(t, s, main, false), 0)
	wwWant(t, wwTicketAnswer(t, s, second, false), 0)
	wwWant(t, wwTicketAnswer(t, s, second, false), 45009)
	wwWant(t, wwTicketAnswer(t, s, main, true), 0) // the other endpoint counts apart

	s.SetWeComTicketQuota(400, 0)
	wwWant(t, wwTicketAnswer(t, s, second, true), 45009)
	for _, q := range [][2]int{{-1, 0}, {0, -1}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("SetWeComTicketQuota(%d, %d): got no panic, want one", q[0], q[1])
				}
			}()
			s.SetWeComTicketQuota(q[0], q[1])
		}()
	}
}

func TestWeComJSConfigVerification(t *testing.T) {
	s := newServer(t)
	main, second := wwToken(t, s), withSecondApp(t, s)
	corp, agent, other := wwTicket(t, s, main, false), wwTicket(t, s, main, true), wwTicket(t, s, second, true)
	oa := jsapiTicket(t, s)
	const fragment = wwPage + "#/orders"

	for _, tt := range []struct {
		name, ticket, signed, page, want string
	}{
		{"corp ticket", corp, wwPage, wwPage, wwOK},
		{"signed with the fragment", corp, fragment, wwPage, wwInvalid},
		{"another URL", corp, wwPage, "https://corp.example/wecom/jssdk", wwInvalid},
		{"an app's ticket", agent, wwPage, wwPage, wwInvalid},
		{"the Official Account's ticket", oa, wwPage, wwPage, wwInvalid},
	} {
		if got := wwConfig(t, s, tt.ticket, tt.signed, tt.page); got != tt.want {
			t.Errorf("wx.config, %s: got %q, want %q", tt.name, got, tt.want)
		}
	}
	for _, tt := range []struct {
		name           string
		agentID        any
		ticket, signed string
		page, want     string
	}{
		{"the app's ticket", s.AgentID, agent, wwPage, wwPage, wwAgentOK},
		{"agentid a number", 1000002, agent, wwPage, wwPage, wwAgentOK},
		{"the second app's own ticket", secondAgent, other, wwPage, wwPage, wwAgentOK},
		{"the corp ticket", s.AgentID, corp, wwPage, wwPage, wwAgentBad},
		{"another app's ticket", s.AgentID, other, wwPage, wwPage, wwAgentBad},
		{"another app's agentid", secondAgent, agent, wwPage, wwPage, wwAgentBad},
		{"an unknown agentid", "1000009", agent, wwPage, wwPage, wwAgentBad},
		{"signed with the fragment", s.AgentID, agent, fragment, wwPage, wwAgentBad},
		{"another URL", s.AgentID, agent, wwPage, wwPage + "&x=1", wwAgentBad},
	} {
		if got := wwAgentConfig(t, s, tt.agentID, tt.ticket, tt.signed, tt.page); got != tt.want {
			t.Errorf("wx.agentConfig, %s: got %q, want %q", tt.name, got, tt.want)
		}
	}
	nonce, ts, sig := wwSign(agent, wwPage)
	if got := postVerify(t, s, map[string]any{"api": "agentConfig", "corpid": "ww0000000000000009", "agentid": s.AgentID, "timestamp": ts, "nonceStr": nonce, "signature": sig, "url": wwPage}); got != wwAgentBad {
		t.Errorf("wx.agentConfig with another corpid: got %q, want %q", got, wwAgentBad)
	}
	// The Official Account's config is untouched by the corp's tickets.
	if got := verify(t, s, corp, wwPage, wwPage); got != wwInvalid {
		t.Errorf("the Official Account's wx.config signed with the corp ticket: got %q, want %q", got, wwInvalid)
	}
}
