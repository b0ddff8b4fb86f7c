package main

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The emulator's WeCom ticket endpoints: the corp's jsapi_ticket, for
// wx.config, and the app's, for wx.agentConfig.
const (
	pathWeComJSAPITicket = "/cgi-bin/get_jsapi_ticket"
	pathWeComAgentTicket = "/cgi-bin/ticket/get"
	// The User-Agent of WeCom's client on Android.
	androidWeCom = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/130.0.6723.103 Mobile Safari/537.36 wxwork/4.1.39 MicroMessenger/7.0.1 NetType/WIFI Language/zh ColorScheme/Light"
	// The emulator's answer to getContext.
	weComEntry = "normal"
)

// weComJSSDKTab is a tab whose browser says it is WeCom's client with ua,
// logged in as 张三 through the authorize page, on the example's JS-SDK
// page.
func weComJSSDKTab(t *testing.T, st *weComStack, browser context.Context, ua string) *tab {
	t.Helper()
	tb := newTab(t, browser)
	tb.userAgent(ua)
	page := st.app + "/account/jssdk"
	tb.do(chromedp.Navigate(page))
	tb.emulatorQuery(st, pathAuthorize)
	tb.confirm(http.StatusOK)
	tb.wantLocation(page)
	return tb
}

// waitWeComReady waits until the page has had jssdk:ready n times and
// jssdk:agent-ready agent times, and checks that the location (wx.config's
// API) and the context (wx.agentConfig's) came after the last of them.
func (tb *tab) waitWeComReady(n, agent string) {
	tb.t.Helper()
	ctx, cancel := tb.stepContext() // the step's budget bounds the poll
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`(function (text) {
		return text("ready-count") === "`+n+`" && text("agent-count") === "`+agent+`" && text("location") !== "–" && text("context") !== "–";
	})(function (id) { return document.getElementById(id).textContent; })`, chromedp.WithPollingTimeout(stepBudget))); err != nil {
		tb.t.Fatalf("waiting for jssdk:ready number %s and jssdk:agent-ready number %s: %v (status %q, configured %s, agent configured %s)",
			n, agent, explain(ctx, err), tb.text("jssdk-status"), tb.text("ready-count"), tb.text("agent-count"))
	}
	tb.screenshot("wecom-jssdk-ready")
	if got := tb.text("jssdk-status"); got != "JS-SDK ready" {
		tb.t.Errorf("status: got %q, want %q", got, "JS-SDK ready")
	}
	if got := tb.text("location"); got != fixedPlace {
		tb.t.Errorf("location (wx.config's getLocation): got %q, want %q", got, fixedPlace)
	}
	if got := tb.text("context"); got != weComEntry {
		tb.t.Errorf("context (wx.agentConfig's getContext): got %q, want entry %q", got, weComEntry)
	}
}

// wantSigned checks the URL the page's wx.config and wx.agentConfig were
// signed for.
func (tb *tab) wantSigned(want, why string) {
	tb.t.Helper()
	for _, id := range []string{"signed-url", "agent-url"} {
		if got := tb.text(id); got != want {
			tb.t.Errorf("#%s: got %q, want %s %q", id, got, why, want)
		}
	}
}

// ticketCalls is how often the app fetched the corp's and the app's
// ticket so far.
func (st *weComStack) ticketCalls() (corp, agent int) {
	return st.wx.Calls(pathWeComJSAPITicket), st.wx.Calls(pathWeComAgentTicket)
}

func TestBrowserWeComJSSDK(t *testing.T) {
	path := browserPath(t)
	begin := time.Now()
	st := newWeComStack(t, false)
	browser := newBrowser(t, path)
	t.Cleanup(func() { t.Logf("wall time with the browser: %v", time.Since(begin).Round(time.Millisecond)) })

	t.Run("WeCom on Android: both configs, then again after pushState", func(t *testing.T) {
		tb := weComJSSDKTab(t, st, browser, androidWeCom)
		tb.waitWeComReady("1", "1")
		tb.wantSigned(st.app+"/account/jssdk", "the page's URL")
		tb.do(chromedp.Click(chromedp.ID("route")))
		tb.waitWeComReady("2", "2")
		tb.wantSigned(st.app+"/account/jssdk?tab=orders", "after pushState, the current URL without fragment,")
		if corp, agent := st.ticketCalls(); corp != 1 || agent != 1 {
			t.Errorf("ticket fetches: got %d get_jsapi_ticket and %d ticket/get, want 1 each", corp, agent)
		}
		if got := st.wx.Calls(pathWeComGetToken); got != 1 {
			t.Errorf("gettoken calls: got %d, want 1: the login and both tickets share the corp access_token", got)
		}
	})

	t.Run("WeCom on iOS: the entry URL, after pushState too", func(t *testing.T) {
		corp, agent := st.ticketCalls()
		tb := weComJSSDKTab(t, st, browser, iosWeCom)
		tb.waitWeComReady("1", "1")
		tb.do(chromedp.Click(chromedp.ID("route")))
		tb.waitWeComReady("2", "2")
		tb.wantSigned(st.app+"/account/jssdk", "on iOS after pushState, the entry URL")
		if c, a := st.ticketCalls(); c != corp || a != agent {
			t.Errorf("ticket fetches: got %d get_jsapi_ticket and %d ticket/get, want none (no invalid signature, no renewal)", c-corp, a-agent)
		}
	})

	t.Run("stale tickets: the page recovers with one fetch of each", func(t *testing.T) {
		st.wx.StaleWeComTickets()
		corp, agent := st.ticketCalls()
		tb := weComJSSDKTab(t, st, browser, androidWeCom)
		// wx.config fails, the script reports it, the corp's ticket is
		// renewed and wx.config succeeds (ready 1); then wx.agentConfig
		// fails, the app's ticket is renewed and the script configures
		// both again (ready 2, agent-ready 1).
		tb.waitWeComReady("2", "1")
		if c, a := st.ticketCalls(); c != corp+1 || a != agent+1 {
			t.Errorf("ticket fetches: got %d get_jsapi_ticket and %d ticket/get, want 1 each", c-corp, a-agent)
		}
	})
}
