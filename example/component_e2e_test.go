package main

import (
	"net/url"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// logInTo has the tab's person, user, log into acct's page on st: the
// emulator's consent page for that account through the platform, then
// the account page, which must show acct's appid and acct's openid for
// user.
func (tb *tab) logInTo(st *componentStack, acct account, user, nickname string) {
	tb.t.Helper()
	page := st.app + acct.Prefix + "account/"
	tb.do(chromedp.Navigate(page), chromedp.WaitVisible(chromedp.ID("allow")))
	tb.screenshot("consent" + acct.Prefix[:len(acct.Prefix)-1])
	q := tb.componentQuery(st)
	if q.appID != acct.AppID || q.componentAppID != st.wx.ComponentAppID {
		tb.t.Fatalf("authorize link: got appid %q, component_appid %q, want %q and the platform's %q", q.appID, q.componentAppID, acct.AppID, st.wx.ComponentAppID)
	}
	tb.do(chromedp.SetValue(chromedp.ID("openid"), user))
	tb.do(chromedp.Click(chromedp.ID("allow")), chromedp.WaitVisible(chromedp.ID("nickname")))
	tb.screenshot("landing" + acct.Prefix[:len(acct.Prefix)-1])
	tb.wantLocation(page)
	tb.wantAccountPage(st, acct, user, nickname)
}

// wantAccountPage checks that the tab shows acct's page for user.
func (tb *tab) wantAccountPage(st *componentStack, acct account, user, nickname string) {
	tb.t.Helper()
	for id, want := range map[string]string{"appid": acct.AppID, "openid": st.wx.AuthorizerOpenID(acct.AppID, user), "nickname": nickname} {
		if got := tb.text(id); got != want {
			tb.t.Errorf("%s #%s: got %q, want %q", acct.Prefix, id, got, want)
		}
	}
}

// componentLink is what the tests read of an authorize link.
type componentLink struct{ appID, componentAppID string }

// componentQuery returns the appids of the emulator's authorize page the
// tab is at.
func (tb *tab) componentQuery(st *componentStack) componentLink {
	tb.t.Helper()
	loc, err := url.Parse(tb.location())
	if err != nil || loc.Scheme+"://"+loc.Host != st.wx.URL || loc.Path != pathAuthorize {
		tb.t.Fatalf("location: got %q, want the emulator's %s", tb.location(), pathAuthorize)
	}
	q := loc.Query()
	return componentLink{q.Get("appid"), q.Get("component_appid")}
}

// Two people in two browsers log into the two accounts of the platform:
// each lands on their own account's page, with that account's appid and
// openid, and each account's JS-SDK page is configured with its own appid
// and its own ticket, which the emulator's jweixin checks.
func TestBrowserComponent(t *testing.T) {
	path := browserPath(t)
	begin := time.Now()
	st := newComponentStack(t)
	browser := newBrowser(t, path)
	t.Cleanup(func() { t.Logf("wall time with the browser: %v", time.Since(begin).Round(time.Millisecond)) })
	a, b := st.accounts[0], st.accounts[1]

	aliceTab, bobTab := newTab(t, browser), newTab(t, browser)
	aliceTab.userAgent(androidWeChat)
	bobTab.userAgent(iosWeChat)
	aliceTab.logInTo(st, a, alice, aliceNickname)
	bobTab.logInTo(st, b, bob, bobNickname)

	for _, tt := range []struct {
		tb   *tab
		acct account
	}{{aliceTab, a}, {bobTab, b}} {
		page := st.app + tt.acct.Prefix + "account/jssdk"
		tt.tb.do(chromedp.Navigate(page))
		tt.tb.waitReady("1")
		tt.tb.wantLocation(page)
		if got := tt.tb.text("config-appid"); got != tt.acct.AppID {
			t.Errorf("%s: wx.config appId %q, want the account's %q", page, got, tt.acct.AppID)
		}
		if got := tt.tb.text("signed-url"); got != page {
			t.Errorf("%s: signed URL %q, want the page's", page, got)
		}
	}

	// Back on their own pages, both are still logged in, each as before.
	aliceTab.do(chromedp.Navigate(st.app+a.Prefix+"account/"), chromedp.WaitVisible(chromedp.ID("nickname")))
	aliceTab.wantAccountPage(st, a, alice, aliceNickname)
	bobTab.do(chromedp.Navigate(st.app+b.Prefix+"account/"), chromedp.WaitVisible(chromedp.ID("nickname")))
	bobTab.wantAccountPage(st, b, bob, bobNickname)

	// Alice's login is account a's: account b asks her through b.
	aliceTab.do(chromedp.Navigate(st.app+b.Prefix+"account/"), chromedp.WaitVisible(chromedp.ID("allow")))
	if q := aliceTab.componentQuery(st); q.appID != b.AppID {
		t.Errorf("Alice on %saccount/: authorize link for %q, want account b's %q", b.Prefix, q.appID, b.AppID)
	}
	if got := st.wx.Calls(pathComponentExchange); got != 2 {
		t.Errorf("component code exchanges: got %d, want 2", got)
	}
	if got := st.wx.Calls(pathToken); got != 0 {
		t.Errorf("the Official Account's own exchange: got %d calls, want none", got)
	}
}
