package wechattest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/wechatauth/wechatauth/internal/testclock"
	"github.com/wechatauth/wechatauth/wechattest"
)

// wecomPage is a WeCom page that configures the stand-in script with
// wx.config (the CorpID) and wx.agentConfig, then calls an agent-level
// API, and leaves what happened in window.out.
var wecomPage = template.Must(template.New("").Parse(`<!doctype html>
<meta charset="utf-8">
<script src="{{.Script}}"></script>
<script>
var out = {};
wx.config({beta: true, appId: "{{.CorpID}}", timestamp: {{.TS}}, nonceStr: "{{.Nonce}}", signature: "{{.ConfigSig}}", jsApiList: ["getLocation"]});
wx.ready(function () { out.config = "ready"; });
wx.error(function (res) { out.config = res.errMsg; });
function getContext() {
  wx.invoke("getContext", {}, function (res) { out.invoke = res.err_msg + (res.entry ? " " + res.entry : ""); });
}
wx.agentConfig({corpid: "{{.CorpID}}", agentid: "{{.AgentID}}", timestamp: {{.TS}}, nonceStr: "{{.Nonce}}", signature: "{{.AgentSig}}",
  jsApiList: ["getContext"],
  success: function (res) { out.agent = res.errMsg; getContext(); },
  fail: function (res) { out.agent = res.errMsg; getContext(); }});
</script>`))

// wecomPageServer serves wecomPage on its own origin, signed as an app's
// server would sign it for the URL the browser asked for: with the
// corp's ticket for wx.config and the app's for wx.agentConfig, or, with
// ?mistake=1, the corp's for both; with ?elsewhere=1 for another URL.
func wecomPageServer(t *testing.T, s *wechattest.Server) *httptest.Server {
	tok := wwToken(t, s)
	corp, agent := wwTicket(t, s, tok, false), wwTicket(t, s, tok, true)
	var app *httptest.Server
	app = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		signed := app.URL + r.URL.RequestURI() // the browser sends no fragment
		if r.URL.Query().Get("elsewhere") != "" {
			signed = app.URL + "/elsewhere"
		}
		agentTicket := agent
		if r.URL.Query().Get("mistake") != "" {
			agentTicket = corp
		}
		nonce, ts, configSig := wwSign(corp, signed)
		_, _, agentSig := wwSign(agentTicket, signed)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = wecomPage.Execute(w, map[string]any{
			"Script": s.Endpoints().JSSDK, "CorpID": s.CorpID, "AgentID": s.AgentID,
			"TS": ts, "Nonce": nonce, "ConfigSig": configSig, "AgentSig": agentSig,
		})
	}))
	t.Cleanup(app.Close)
	return app
}

// The stand-in script verifies a WeCom page's wx.config and wx.agentConfig
// in a real browser, against the page's URL without its fragment.
func TestWeComStandInInBrowser(t *testing.T) {
	path := ""
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("no chromium on PATH; CI is set, so this is a failure, not a skip")
		}
		t.Skip("no chromium on PATH: the real-browser test needs Debian's chromium")
	}
	s := newServer(t)
	app := wecomPageServer(t, s)
	budget := testclock.Patience(2 * time.Minute)
	limit, cancel := context.WithTimeout(context.Background(), budget)
	t.Cleanup(cancel)
	alloc, cancelAlloc := chromedp.NewExecAllocator(limit, chromedp.ExecPath(path), chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true), chromedp.NoSandbox, chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true))
	t.Cleanup(cancelAlloc)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(browser); err != nil { // starts the browser
		t.Fatalf("starting %s: %v", path, err)
	}
	const wecomAndroid = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/130.0.6723.103 Mobile Safari/537.36 wxwork/4.1.30 MicroMessenger/7.0.1 NetType/WIFI Language/zh ColorScheme/Light"

	for _, tt := range []struct {
		name, page                   string
		wantConfig, wantAgent, wantI string
	}{
		{"signed right, a fragment on the page", "/wecom/jssdk?tab=1#/orders", "ready", "agentConfig:ok", "getContext:ok normal"},
		{"agentConfig signed with the corp ticket", "/wecom/jssdk?mistake=1", "ready", "agentConfig:invalid signature", "getContext:fail_no permission"},
		{"signed for another URL", "/wecom/jssdk?elsewhere=1", "config:invalid signature", "agentConfig:invalid signature", "getContext:fail_no permission"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
			defer cancel()
			if _, err := chromedp.Call(ctx, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: wecomAndroid}); err != nil {
				t.Fatalf("setting the User-Agent: %v", err)
			}
			if err := chromedp.Do(ctx, chromedp.Navigate(app.URL+tt.page)); err != nil {
				t.Fatalf("%s: %v", tt.page, err)
			}
			raw, err := chromedp.Run(ctx, chromedp.Poll[string](`out.config && out.agent && out.invoke ? JSON.stringify(out) : false`))
			if err != nil {
				t.Fatalf("%s: waiting for the page's configs: %v", tt.page, err)
			}
			var out struct{ Config, Agent, Invoke string }
			if err := json.Unmarshal([]byte(raw), &out); err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprint(out.Config, " | ", out.Agent, " | ", out.Invoke); got != fmt.Sprint(tt.wantConfig, " | ", tt.wantAgent, " | ", tt.wantI) {
				t.Errorf("wx.config | wx.agentConfig | wx.invoke: got %q, want %q", got, fmt.Sprint(tt.wantConfig, " | ", tt.wantAgent, " | ", tt.wantI))
			}
		})
	}
}
