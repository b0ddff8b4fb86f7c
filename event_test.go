package wechatauth_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/wechatauth/wechatauth"
	"github.com/wechatauth/wechatauth/mp"
	"github.com/wechatauth/wechatauth/wechattest"
)

// events records the events of an Auth.
type events struct {
	mu  sync.Mutex
	got []wechatauth.Event
}

func (e *events) add(_ *http.Request, ev wechatauth.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.got = append(e.got, ev)
}

func (e *events) kinds() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var names []string
	for _, ev := range e.got {
		names = append(names, ev.Kind.String())
	}
	return strings.Join(names, " ")
}

func (e *events) last() wechatauth.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.got[len(e.got)-1]
}

func TestEvents(t *testing.T) {
	ev := &events{}
	h := newHarness(t, func(o *wechatauth.Options) {
		o.OnEvent = ev.add
		o.DebugBypass = true
	})
	h.login("/account/")
	if got, want := ev.kinds(), "redirect login"; got != want {
		t.Errorf("login: got %q, want %q", got, want)
	}
	if e := ev.last(); e.OpenID != "oTestUser0000000000000000001" {
		t.Errorf("login event: got %+v", e)
	}

	h.wx.SetMode(wechattest.Refuse)
	h.get(h.browser(true), "/account/")
	if got, want := ev.kinds(), "redirect login redirect refused"; got != want {
		t.Errorf("refusal: got %q, want %q", got, want)
	}

	h.wx.SetMode(wechattest.AutoApprove)
	c := h.browser(false)
	cb := h.callbackURL(c, "/account/")
	h.wx.FailNext("/sns/oauth2/access_token", mp.CodeMinuteQuota)
	h.get(c, cb)
	if e := ev.last(); e.Kind != wechatauth.EventFailure || e.Code != mp.CodeMinuteQuota || e.Status != http.StatusBadGateway || e.Err == nil {
		t.Errorf("failure event: got %+v, want errcode %d and status 502", e, mp.CodeMinuteQuota)
	}

	h.get(h.browser(true), "/account/?_user=oDebug")
	if e := ev.last(); e.Kind != wechatauth.EventDebugLogin || e.OpenID != "oDebug" {
		t.Errorf("debug event: got %+v", e)
	}
	for _, want := range []string{"wechatauth: login", "wechatauth: user declined", "wechatauth: login failed", "errcode=45011", "wechatauth: debug login"} {
		if !strings.Contains(h.logs.String(), want) {
			t.Errorf("log lacks %q", want)
		}
	}
}
