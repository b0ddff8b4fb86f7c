package main

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

const (
	pathTicket = "/cgi-bin/ticket/getticket"
	// User-Agents of WeChat's client on Android and on an iPhone.
	androidWeChat = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/130.0.6723.103 Mobile Safari/537.36 XWEB/1300289 MMWEBSDK/20241103 MicroMessenger/8.0.54.2760(0x28003652) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64"
	iosWeChat     = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.54(0x18003637) NetType/WIFI Language/zh_CN"
	// The emulator's getLocation answer.
	fixedPlace = "39.908692,116.397477"
)

// weChatTab is a tab whose browser says it is WeChat's client with ua,
// logged in as Alice on the example's JS-SDK page.
func weChatTab(t *testing.T, st *stack, browser context.Context, ua string) *tab {
	t.Helper()
	tb := newTab(t, browser)
	ctx, cancel := tb.stepContext()
	defer cancel()
	if _, err := chromedp.Call(ctx, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: ua}); err != nil {
		t.Fatalf("setting the User-Agent: %v", explain(ctx, err))
	}
	page := st.app + "/account/jssdk"
	tb.do(chromedp.Navigate(page))
	tb.consent(st)
	tb.do(chromedp.Click(chromedp.ID("allow")), chromedp.WaitVisible(chromedp.ID("jssdk-status")))
	tb.wantLocation(page)
	return tb
}

// waitReady waits until the page has been configured n times, and checks
// that it says so and shows the emulator's place.
func (tb *tab) waitReady(n string) {
	tb.t.Helper()
	tb.do(chromedp.WaitVisible(chromedp.ID("jssdk-ready")))
	ctx, cancel := tb.stepContext()
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("ready-count").textContent === "`+n+`" &&
		document.getElementById("location").textContent !== "–"`)); err != nil {
		tb.t.Fatalf("waiting for wx.ready number %s: %v (status %q)", n, explain(ctx, err), tb.text("jssdk-status"))
	}
	tb.screenshot("jssdk-ready")
	if got := tb.text("jssdk-status"); got != "JS-SDK ready" {
		tb.t.Errorf("status: got %q, want %q", got, "JS-SDK ready")
	}
	if got := tb.text("location"); got != fixedPlace {
		tb.t.Errorf("location: got %q, want %q", got, fixedPlace)
	}
}

func TestBrowserJSSDK(t *testing.T) {
	path := browserPath(t)
	st := newStack(t)
	browser := newBrowser(t, path)

	t.Run("WeChat on Android: wx.ready, then again after pushState", func(t *testing.T) {
		tb := weChatTab(t, st, browser, androidWeChat)
		tb.waitReady("1")
		if got := tb.text("share"); got != "set" {
			t.Errorf("share card: got %q, want %q", got, "set")
		}
		tb.do(chromedp.Click(chromedp.ID("route")))
		tb.waitReady("2")
		if got, want := tb.text("signed-url"), st.app+"/account/jssdk?tab=orders"; got != want {
			t.Errorf("URL signed after pushState: got %q, want %q (the current one, without fragment)", got, want)
		}
	})

	t.Run("WeChat on iOS: the entry URL, after pushState too", func(t *testing.T) {
		tickets := st.wx.Calls(pathTicket)
		tb := weChatTab(t, st, browser, iosWeChat)
		tb.waitReady("1")
		tb.do(chromedp.Click(chromedp.ID("route")))
		tb.waitReady("2")
		if got, want := tb.text("signed-url"), st.app+"/account/jssdk"; got != want {
			t.Errorf("URL signed after pushState on iOS: got %q, want the entry URL %q", got, want)
		}
		if got := st.wx.Calls(pathTicket) - tickets; got != 0 {
			t.Errorf("getticket calls: got %d, want 0 (no invalid signature, no renewal)", got)
		}
	})

	t.Run("a stale ticket: the page recovers with one refetch", func(t *testing.T) {
		st.wx.StaleTickets()
		tickets := st.wx.Calls(pathTicket)
		tb := weChatTab(t, st, browser, androidWeChat)
		tb.waitReady("1")
		if got := st.wx.Calls(pathTicket) - tickets; got != 1 {
			t.Errorf("getticket calls: got %d, want 1", got)
		}
	})

	t.Run("a URL of another origin gets 400", func(t *testing.T) {
		tb := weChatTab(t, st, browser, androidWeChat)
		tb.waitReady("1")
		ctx, cancel := tb.stepContext()
		defer cancel()
		got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch("/wechat/jssdk?url=" + encodeURIComponent("https://evil.example/account/jssdk"))
			.then(r => r.json().then(b => r.status + " " + b.error))`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatal(explain(ctx, err))
		}
		if !strings.HasPrefix(got, "400 ") || !strings.Contains(got, `the origin "https://evil.example" is not one of Options.Origins`) {
			t.Errorf("got %q, want 400 naming the origin rule", got)
		}
	})
}
