package jssdk_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wechatauth/wechatauth/jssdk"
	"github.com/wechatauth/wechatauth/mp"
)

const (
	corpID  = "ww0123456789abcdef"
	agentID = "1000002"
)

// platformTickets is one of WeCom's tickets as a ticket source sees it:
// the ticket WeCom holds valid now, which a test may replace behind the
// server's back, and the one the source has cached, fetched once when
// there is none. It stands for the sources of package work.
type platformTickets struct {
	name string

	mu      sync.Mutex
	issued  int
	valid   string // the ticket WeCom accepts now
	cached  string // the source's cache
	fetches int
	fail    error // the answer of the next fetches, when set
}

func newPlatformTickets(name string) *platformTickets {
	p := &platformTickets{name: name}
	p.replace()
	return p
}

func (p *platformTickets) Ticket(context.Context) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cached == "" {
		p.fetches++
		if p.fail != nil {
			return "", p.fail
		}
		p.cached = p.valid
	}
	return p.cached, nil
}

func (p *platformTickets) Invalidate(_ context.Context, ticket string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cached == ticket {
		p.cached = ""
	}
	return nil
}

// replace has WeCom issue a new ticket behind the source's back: the
// cached one is stale from now on.
func (p *platformTickets) replace() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.issued++
	p.valid = p.name + "-TICKET-" + strconv.Itoa(p.issued)
}

// accepts reports whether WeCom's client accepts a signature made for
// pageURL, as it checks it: with the ticket valid now.
func (p *platformTickets) accepts(ts int64, nonce, sig, pageURL string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return jssdk.Signature(p.valid, nonce, ts, pageURL) == sig
}

func (p *platformTickets) fetched() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.fetches
}

// wecomRig is a Signer of WeCom's pages over two platformTickets.
type wecomRig struct {
	corp, agent *platformTickets
	signer      *jssdk.Signer
	log         *bytes.Buffer

	mu  sync.Mutex
	now time.Time
}

func newWeComRig(t testing.TB, change func(o *jssdk.Options)) *wecomRig {
	t.Helper()
	r := &wecomRig{corp: newPlatformTickets("CORP"), agent: newPlatformTickets("AGENT"), log: new(bytes.Buffer), now: time.Now()}
	o := jssdk.Options{
		CorpID: corpID, Tickets: r.corp, AgentTickets: r.agent, AgentID: agentID,
		Origins:   []string{site, "http://127.0.0.1:8080"},
		APIs:      []string{"getLocation"},
		AgentAPIs: []string{"selectExternalContact"},
		Logger:    slog.New(slog.NewTextHandler(r.log, nil)),
	}
	if change != nil {
		change(&o)
	}
	s, err := jssdk.New(o)
	if err != nil {
		t.Fatal(err)
	}
	jssdk.SetClock(s, func() time.Time {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.now
	})
	r.signer = s
	return r
}

func (r *wecomRig) advance(d time.Duration) {
	r.mu.Lock()
	r.now = r.now.Add(d)
	r.mu.Unlock()
}

// get asks the handler for pageURL's answer, with extra query pairs.
func (r *wecomRig) get(t testing.TB, pageURL string, extra ...string) *httptest.ResponseRecorder {
	t.Helper()
	q := url.Values{"url": {pageURL}}
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	w := httptest.NewRecorder()
	r.signer.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/wechat/jssdk?"+q.Encode(), nil))
	return w
}

// wecomAnswer is the handler's answer on WeCom's pages.
type wecomAnswer struct {
	Config      jssdk.Config       `json:"config"`
	AgentConfig *jssdk.AgentConfig `json:"agentConfig"`
}

func (r *wecomRig) configs(t testing.TB, pageURL string, extra ...string) wecomAnswer {
	t.Helper()
	w := r.get(t, pageURL, extra...)
	if w.Code != http.StatusOK {
		t.Fatalf("GET config of %q: HTTP %d: %s", pageURL, w.Code, w.Body)
	}
	var a wecomAnswer
	if err := json.Unmarshal(w.Body.Bytes(), &a); err != nil {
		t.Fatal(err)
	}
	return a
}

// report posts a refused config back as the page script does: agent
// when it is the wx.agentConfig.
func (r *wecomRig) report(t testing.TB, ts int64, nonce, sig, pageURL string, agent bool) (int, string) {
	t.Helper()
	rep := map[string]any{"url": pageURL, "timestamp": ts, "nonceStr": nonce, "signature": sig}
	if agent {
		rep["agent"] = true
	}
	body, _ := json.Marshal(rep)
	w := httptest.NewRecorder()
	r.signer.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/wechat/jssdk", bytes.NewReader(body)))
	return w.Code, strings.TrimSpace(w.Body.String())
}

func jsonKeys(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range fields {
		keys = append(keys, k)
	}
	return strings.Join(sorted(keys), ",")
}

// TestSignatureOfWeComsExample: WeCom's JS-SDK documentation (signature
// algorithm, 2024-11-14) reuses WeChat's worked example; the agent's
// config, signed with that ticket at that time, gives the same.
func TestSignatureOfWeComsExample(t *testing.T) {
	if got := jssdk.Signature(docTicket, docNonce, docTimestamp, docURL); got != docSignature {
		t.Errorf("got %q, want %q", got, docSignature)
	}
	agent := newPlatformTickets("AGENT")
	agent.valid = docTicket
	r := newWeComRig(t, func(o *jssdk.Options) {
		o.AgentTickets = agent
		o.Origins = []string{"http://mp.weixin.qq.com"}
	})
	jssdk.SetClock(r.signer, func() time.Time { return time.Unix(docTimestamp, 0) })
	ac, err := r.signer.SignAgent(context.Background(), docURL+"#frag")
	if err != nil {
		t.Fatal(err)
	}
	if ac.Timestamp != docTimestamp || ac.Signature != jssdk.Signature(docTicket, ac.NonceStr, docTimestamp, docURL) {
		t.Errorf("agentConfig: %+v, want signed with the ticket at %d over %q", ac, docTimestamp, docURL)
	}
	if ac.CorpID != corpID || ac.AgentID != agentID || strings.Join(ac.JSAPIList, ",") != "selectExternalContact" {
		t.Errorf("agentConfig: %+v", ac)
	}
}

// TestWeComConfigAnswersBothObjects: WeCom's answer holds the wx.config
// (the CorpID as appId, beta) signed with the corp's ticket and the
// wx.agentConfig signed with the app's, each with its own timestamp and
// nonce, each refused by WeCom with the other's ticket.
func TestWeComConfigAnswersBothObjects(t *testing.T) {
	r := newWeComRig(t, nil)
	page := site + "/wecom/jssdk?from=singlemessage"
	w := r.get(t, page+"#/route", "agent", "1")
	if w.Code != http.StatusOK {
		t.Fatalf("HTTP %d: %s", w.Code, w.Body)
	}
	if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control: got %q, want no-store", cc)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(w.Body.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	if got := jsonKeys(t, raw["config"]); got != "appId,beta,jsApiList,nonceStr,openTagList,signature,timestamp" {
		t.Errorf("config's keys: got %s", got)
	}
	if got := jsonKeys(t, raw["agentConfig"]); got != "agentid,corpid,jsApiList,nonceStr,signature,timestamp" {
		t.Errorf("agentConfig's keys: got %s", got)
	}
	if len(raw) != 2 {
		t.Errorf("answer: got %s, want config and agentConfig only", w.Body)
	}
	var a wecomAnswer
	json.Unmarshal(w.Body.Bytes(), &a)
	c, ac := a.Config, a.AgentConfig
	if c.AppID != corpID || !c.Beta || strings.Join(c.JSAPIList, ",") != "getLocation" {
		t.Errorf("config: %+v, want appId %s, beta, Options.APIs", c, corpID)
	}
	if ac.CorpID != corpID || ac.AgentID != agentID || strings.Join(ac.JSAPIList, ",") != "selectExternalContact" {
		t.Errorf("agentConfig: %+v, want corpid %s, agentid %s, Options.AgentAPIs", ac, corpID, agentID)
	}
	if ac.NonceStr == c.NonceStr {
		t.Errorf("the two configs share the nonce %q, want one each", c.NonceStr)
	}
	if !r.corp.accepts(c.Timestamp, c.NonceStr, c.Signature, page) {
		t.Errorf("wx.config: not signed with the corp's ticket over %q", page)
	}
	if !r.agent.accepts(ac.Timestamp, ac.NonceStr, ac.Signature, page) {
		t.Errorf("wx.agentConfig: not signed with the agent_config ticket over %q", page)
	}
	if r.corp.accepts(ac.Timestamp, ac.NonceStr, ac.Signature, page) || r.agent.accepts(c.Timestamp, c.NonceStr, c.Signature, page) {
		t.Errorf("a config signed with the other's ticket")
	}
	for _, tk := range []*platformTickets{r.corp, r.agent} {
		if strings.Contains(w.Body.String(), tk.valid) {
			t.Errorf("the answer holds the %s ticket", tk.name)
		}
	}

	plain := r.get(t, page)
	if !strings.HasPrefix(plain.Body.String(), `{"config":{"beta":true,"appId":"`+corpID+`"`) || strings.Contains(plain.Body.String(), "agentConfig") {
		t.Errorf("without agent=1: got %s, want the config alone", plain.Body)
	}
	custom := r.configs(t, page, "agentApis", "getCurExternalContact,openEnterpriseChat", "apis", "scanQRCode")
	if custom.AgentConfig == nil || strings.Join(custom.AgentConfig.JSAPIList, ",") != "getCurExternalContact,openEnterpriseChat" ||
		strings.Join(custom.Config.JSAPIList, ",") != "scanQRCode" {
		t.Errorf("agentApis and apis of the request: got %+v", custom)
	}
	if w := r.get(t, page, "agentApis", "bad name"); w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "agentApis") {
		t.Errorf("a bad agentApis: got HTTP %d %s, want 400", w.Code, w.Body)
	}
	if n, m := r.corp.fetched(), r.agent.fetched(); n != 1 || m != 1 {
		t.Errorf("fetches: corp %d, agent %d; want 1 each (cached)", n, m)
	}
}

// TestWeComRegisterSignatures: sign=config and sign=agent answer what
// ww.register's getConfigSignature and getAgentConfigSignature return,
// each signed with its own ticket.
func TestWeComRegisterSignatures(t *testing.T) {
	r := newWeComRig(t, nil)
	page := site + "/wecom/?a=1"
	for _, tt := range []struct {
		sign     string
		tickets  *platformTickets
		other    *platformTickets
		wantKeys string
	}{
		{"config", r.corp, r.agent, "nonceStr,signature,timestamp"},
		{"agent", r.agent, r.corp, "nonceStr,signature,timestamp"},
	} {
		w := r.get(t, page+"#x", "sign", tt.sign)
		if w.Code != http.StatusOK {
			t.Fatalf("sign=%s: HTTP %d %s", tt.sign, w.Code, w.Body)
		}
		if got := jsonKeys(t, w.Body.Bytes()); got != tt.wantKeys {
			t.Errorf("sign=%s: keys %s, want %s", tt.sign, got, tt.wantKeys)
		}
		var s struct {
			Timestamp int64
			NonceStr  string
			Signature string
		}
		json.Unmarshal(w.Body.Bytes(), &s)
		if !tt.tickets.accepts(s.Timestamp, s.NonceStr, s.Signature, page) || tt.other.accepts(s.Timestamp, s.NonceStr, s.Signature, page) {
			t.Errorf("sign=%s: not signed with the %s ticket alone", tt.sign, tt.tickets.name)
		}
	}
	if w := r.get(t, page, "sign", "both"); w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "getAgentConfigSignature") {
		t.Errorf("sign=both: got HTTP %d %s, want 400", w.Code, w.Body)
	}
	if w := r.get(t, "https://evil.example/", "sign", "agent"); w.Code != http.StatusBadRequest {
		t.Errorf("sign=agent for another origin: got HTTP %d, want 400", w.Code)
	}

	noAgent := newWeComRig(t, func(o *jssdk.Options) { o.AgentTickets, o.AgentID, o.AgentAPIs = nil, "", nil })
	for _, extra := range [][]string{{"sign", "agent"}, {"agent", "1"}, {"agentApis", "selectExternalContact"}} {
		if w := noAgent.get(t, page, extra...); w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "AgentTickets") {
			t.Errorf("%s=%s without AgentTickets: got HTTP %d %s, want 400", extra[0], extra[1], w.Code, w.Body)
		}
	}
	if _, err := noAgent.signer.SignAgent(context.Background(), page); !errors.Is(err, jssdk.ErrNoAgent) {
		t.Errorf("SignAgent without AgentTickets: got %v, want ErrNoAgent", err)
	}
	if code, _ := noAgent.report(t, 1, "n", "s", page, true); code != http.StatusBadRequest {
		t.Errorf("an agent report without AgentTickets: got HTTP %d, want 400", code)
	}
	if w := noAgent.get(t, page); w.Code != http.StatusOK {
		t.Errorf("the config alone without AgentTickets: got HTTP %d, want 200", w.Code)
	}
}

// TestWeComSharesTheURLRules: the page URLs the Official Account's pages
// may sign are WeCom's, signed alike, and those refused are refused with
// the same rule, for every kind of WeCom request.
func TestWeComSharesTheURLRules(t *testing.T) {
	r := newWeComRig(t, nil)
	for _, tt := range goodURLs {
		t.Run("good/"+tt.name, func(t *testing.T) {
			a := r.configs(t, tt.page, "agent", "1")
			c, ac := a.Config, a.AgentConfig
			if !r.corp.accepts(c.Timestamp, c.NonceStr, c.Signature, tt.signed) || !r.agent.accepts(ac.Timestamp, ac.NonceStr, ac.Signature, tt.signed) {
				t.Errorf("the configs of %q are not signed over %q", tt.page, tt.signed)
			}
		})
	}
	for _, kind := range [][]string{nil, {"agent", "1"}, {"sign", "config"}, {"sign", "agent"}} {
		for _, tt := range badURLs {
			t.Run("bad/"+strings.Join(kind, "=")+"/"+tt.name, func(t *testing.T) {
				w := r.get(t, tt.url, kind...)
				var body struct{ Error string }
				json.Unmarshal(w.Body.Bytes(), &body)
				if w.Code != http.StatusBadRequest || !strings.Contains(body.Error, tt.want) {
					t.Errorf("got HTTP %d %q, want 400 with %q", w.Code, body.Error, tt.want)
				}
			})
		}
	}
	if n, m := r.corp.fetched(), r.agent.fetched(); n != 1 || m != 1 {
		t.Errorf("fetches: corp %d, agent %d; want 1 each", n, m)
	}
}

// TestWeComRenewsTheTicketThatFailed: WeCom replaced the agent_config
// ticket behind the server's back: the page's wx.agentConfig fails, its
// report renews that ticket with one fetch and leaves the corp's alone, and
// the next agentConfig passes. The same for the corp's ticket. A report
// that names the wrong config renews nothing.
func TestWeComRenewsTheTicketThatFailed(t *testing.T) {
	r := newWeComRig(t, func(o *jssdk.Options) { o.RenewInterval = time.Minute })
	page := site + "/wecom/"
	first := r.configs(t, page, "agent", "1")
	r.agent.replace()
	ac := first.AgentConfig
	if r.agent.accepts(ac.Timestamp, ac.NonceStr, ac.Signature, page) {
		t.Fatal("the stale agentConfig passes")
	}
	if !r.corp.accepts(first.Config.Timestamp, first.Config.NonceStr, first.Config.Signature, page) {
		t.Fatal("the config fails")
	}
	if _, body := r.report(t, ac.Timestamp, ac.NonceStr, ac.Signature, page, false); body != `{"renewed":false}` {
		t.Errorf("the agentConfig reported as the config: got %s, want renewed false", body)
	}
	if code, body := r.report(t, ac.Timestamp, ac.NonceStr, ac.Signature, page, true); code != http.StatusOK || body != `{"renewed":true}` {
		t.Fatalf("the agentConfig's report: got HTTP %d %s, want renewed", code, body)
	}
	if n, m := r.corp.fetched(), r.agent.fetched(); n != 1 || m != 2 {
		t.Errorf("fetches after the agent's renewal: corp %d, agent %d; want 1 and 2 (one fetch recovers)", n, m)
	}
	again := r.configs(t, page, "agent", "1")
	if ac := again.AgentConfig; !r.agent.accepts(ac.Timestamp, ac.NonceStr, ac.Signature, page) {
		t.Errorf("after the renewal: the agentConfig fails")
	}
	if _, body := r.report(t, ac.Timestamp, ac.NonceStr, ac.Signature, page, true); body != `{"renewed":false}` {
		t.Errorf("the same report again: got %s, want renewed false", body)
	}

	// Now the corp's ticket, within the agent's RenewInterval: the
	// intervals are the tickets' own.
	r.advance(10 * time.Second)
	r.corp.replace()
	c := again.Config
	if _, body := r.report(t, c.Timestamp, c.NonceStr, c.Signature, page, true); body != `{"renewed":false}` {
		t.Errorf("the config reported as the agentConfig: got %s, want renewed false", body)
	}
	if _, body := r.report(t, c.Timestamp, c.NonceStr, c.Signature, page, false); body != `{"renewed":true}` {
		t.Fatalf("the config's report: got %s, want renewed", body)
	}
	if n, m := r.corp.fetched(), r.agent.fetched(); n != 2 || m != 2 {
		t.Errorf("fetches after the corp's renewal: corp %d, agent %d; want 2 and 2", n, m)
	}
	last := r.configs(t, page, "agent", "1")
	if c, ac := last.Config, last.AgentConfig; !r.corp.accepts(c.Timestamp, c.NonceStr, c.Signature, page) || !r.agent.accepts(ac.Timestamp, ac.NonceStr, ac.Signature, page) {
		t.Errorf("after both renewals: a config fails")
	}

	// Within RenewInterval a ticket replaced again is not renewed.
	r.agent.replace()
	ac = last.AgentConfig
	if _, body := r.report(t, ac.Timestamp, ac.NonceStr, ac.Signature, page, true); body != `{"renewed":false}` {
		t.Errorf("within the agent's RenewInterval: got %s, want renewed false", body)
	}
	r.advance(time.Minute)
	if _, body := r.report(t, ac.Timestamp, ac.NonceStr, ac.Signature, page, true); body != `{"renewed":true}` {
		t.Errorf("after RenewInterval: got %s, want renewed true", body)
	}
}

// TestWeComAgentTicketFailure: an agent_config ticket WeCom refuses is a
// 502 naming that ticket, logged once for a run, and the config alone
// still works.
func TestWeComAgentTicketFailure(t *testing.T) {
	r := newWeComRig(t, nil)
	r.agent.fail = &mp.Error{Code: 48002, Msg: "api forbidden", Endpoint: "/cgi-bin/ticket/get"}
	for range 3 {
		w := r.get(t, site+"/", "agent", "1")
		if w.Code != http.StatusBadGateway || !strings.Contains(w.Body.String(), "agent_config ticket") || strings.Contains(w.Body.String(), "48002") {
			t.Errorf("got HTTP %d %s, want 502 naming the agent_config ticket without WeCom's answer", w.Code, w.Body)
		}
	}
	if lines := logLines(r.log, "no agent_config ticket for wx.agentConfig"); len(lines) != 1 || !strings.Contains(lines[0], "errcode 48002") {
		t.Errorf("log: got %q, want one line with the errcode", lines)
	}
	if w := r.get(t, site+"/"); w.Code != http.StatusOK {
		t.Errorf("the config alone: got HTTP %d, want 200", w.Code)
	}
	r.agent.fail = nil
	if w := r.get(t, site+"/", "agent", "1"); w.Code != http.StatusOK {
		t.Errorf("once the ticket is back: got HTTP %d, want 200", w.Code)
	}
	if lines := logLines(r.log, "WeCom's tickets are available again"); len(lines) != 1 {
		t.Errorf("log once the ticket is back: got %q", lines)
	}
}

func TestNewWeComOptions(t *testing.T) {
	corp, agent := newPlatformTickets("CORP"), newPlatformTickets("AGENT")
	ok := jssdk.Options{CorpID: corpID, Tickets: corp, AgentTickets: agent, AgentID: agentID, Origins: []string{site}}
	if _, err := jssdk.New(ok); err != nil {
		t.Fatalf("New of valid options: %v", err)
	}
	tests := []struct {
		name   string
		change func(o *jssdk.Options)
		want   string
	}{
		{"AppID and CorpID", func(o *jssdk.Options) { o.AppID = "wx1234567890abcdef" }, "Options.AppID: and Options.CorpID are both set"},
		{"bad CorpID", func(o *jssdk.Options) { o.CorpID = "ww 1" }, "Options.CorpID: must be the corp's ID"},
		{"the corp's ticket for agentConfig", func(o *jssdk.Options) { o.AgentTickets = corp }, "Options.AgentTickets: is Tickets"},
		{"AgentID without AgentTickets", func(o *jssdk.Options) { o.AgentTickets = nil }, "Options.AgentTickets: is nil while AgentID is set"},
		{"AgentTickets without AgentID", func(o *jssdk.Options) { o.AgentID = "" }, "Options.AgentID: must be the app's AgentId"},
		{"AgentID not digits", func(o *jssdk.Options) { o.AgentID = "app" }, "Options.AgentID: must be the app's AgentId"},
		{"agent options of an Official Account", func(o *jssdk.Options) { o.CorpID, o.AppID = "", "wx1234567890abcdef" }, "are WeCom's"},
		{"bad AgentAPIs", func(o *jssdk.Options) { o.AgentAPIs = []string{"a b"} }, "Options.AgentAPIs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := ok
			tt.change(&o)
			if _, err := jssdk.New(o); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
	noAgent := ok
	noAgent.AgentTickets, noAgent.AgentID = nil, ""
	if _, err := jssdk.New(noAgent); err != nil {
		t.Errorf("WeCom without an agent: %v", err)
	}
}
