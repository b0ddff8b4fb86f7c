package jssdk_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/wechatauth/wechatauth/jssdk"
)

// User-Agents of WeCom's client on Android and on an iPhone.
const (
	androidWeCom = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/130.0.6723.103 Mobile Safari/537.36 wxwork/4.1.39 MicroMessenger/7.0.1 NetType/WIFI Language/zh"
	iosWeCom     = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 wxwork/4.1.39 MicroMessenger/7.0.1 Language/zh ColorScheme/Light"
)

// wecomPage is a WeCom page with a stand-in for WeCom's jweixin: wx.config
// and wx.agentConfig ask the test server whether WeCom would accept the
// signature for the URL WeCom checks (the entry URL on iOS, the current
// one elsewhere), and the page records the script's events in
// window.events.
const wecomPage = `<!doctype html><html><head><meta charset="utf-8"></head><body>
<script>
(function () {
  var ios = /iPhone|iPad|iPod/.test(navigator.userAgent);
  var entry = location.href.split("#")[0];
  var readyFns = [], errorFns = [], gen = 0;
  function check(kind, c) {
    var url = ios ? entry : location.href.split("#")[0];
    return fetch("/verify", { method: "POST", body: JSON.stringify({ kind: kind, c: c, url: url }) }).then(function (r) { return r.json(); });
  }
  window.wx = {
    config: function (c) {
      var g = ++gen;
      check("config", c).then(function (ok) {
        if (g !== gen) { return; }
        if (ok) { readyFns.forEach(function (f) { setTimeout(f, 0); }); }
        else { errorFns.forEach(function (f) { setTimeout(function () { f({ errMsg: "config:invalid signature" }); }, 0); }); }
      });
    },
    ready: function (f) { readyFns.push(f); },
    error: function (f) { errorFns.push(f); },
    agentConfig: function (a) {
      check("agent", a).then(function (ok) {
        if (ok) { a.success({ errMsg: "agentConfig:ok" }); } else { a.fail({ errMsg: "agentConfig:invalid signature" }); }
      });
    }
  };
  window.events = [];
  ["ready", "error", "agent-ready", "agent-error", "unavailable"].forEach(function (name) {
    document.addEventListener("jssdk:" + name, function (e) { window.events.push(name + " " + (e.detail.url || e.detail.errMsg || "")); });
  });
})();
</script>
<script src="/wechat/jssdk.js" data-config="/wechat/jssdk" data-apis="getLocation" data-agent-apis="selectExternalContact"></script>
</body></html>`

// wecomSite serves wecomPage, the Signer of a wecomRig whose origin is
// the site's, and the stand-in's check.
func wecomSite(t *testing.T) (*wecomRig, *httptest.Server) {
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	r := newWeComRig(t, func(o *jssdk.Options) { o.Origins = []string{srv.URL} })
	mux.HandleFunc("GET /wecom/", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, wecomPage)
	})
	mux.Handle("/wechat/jssdk", r.signer.Handler())
	mux.Handle("GET /wechat/jssdk.js", r.signer.ScriptHandler())
	mux.HandleFunc("POST /verify", func(w http.ResponseWriter, req *http.Request) {
		var v struct {
			Kind string
			URL  string
			C    struct {
				AppID     string `json:"appId"`
				CorpID    string `json:"corpid"`
				AgentID   string `json:"agentid"`
				Beta      bool
				Timestamp int64
				NonceStr  string
				Signature string
			}
		}
		json.NewDecoder(req.Body).Decode(&v)
		var ok bool
		switch v.Kind {
		case "config":
			ok = v.C.AppID == corpID && v.C.Beta && r.corp.accepts(v.C.Timestamp, v.C.NonceStr, v.C.Signature, v.URL)
		case "agent":
			ok = v.C.CorpID == corpID && v.C.AgentID == agentID && r.agent.accepts(v.C.Timestamp, v.C.NonceStr, v.C.Signature, v.URL)
		}
		json.NewEncoder(w).Encode(ok)
	})
	return r, srv
}

func chromiumPath(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no chromium on PATH; CI is set, so this is a failure, not a skip")
	}
	t.Skip("no chromium on PATH: the page script's browser test needs it")
	return ""
}

// TestScriptOnWeComPages: in Chromium with WeCom's User-Agent, the page
// script reaches ready for wx.config and then for wx.agentConfig, signs
// again after pushState (the current URL on Android, the entry URL on
// iOS), and recovers from a stale agent_config ticket with one report and
// one fetch of that ticket alone.
func TestScriptOnWeComPages(t *testing.T) {
	path := chromiumPath(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // a bound on a stuck browser, not a margin
	defer cancel()
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, chromedp.ExecPath(path), chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true), chromedp.NoSandbox, chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true), chromedp.NoFirstRun)
	defer cancelAlloc()
	browser, cancelBrowser := chromedp.NewContext(alloc)
	defer cancelBrowser()
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}

	// open loads the page of srv in a new tab with ua.
	open := func(t *testing.T, srv *httptest.Server, ua string) context.Context {
		tab, cancelTab := chromedp.NewContext(browser)
		t.Cleanup(cancelTab)
		if _, err := chromedp.Call(tab, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: ua}); err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(tab, chromedp.Navigate(srv.URL+"/wecom/app?x=1")); err != nil {
			t.Fatal(err)
		}
		return tab
	}
	// waitEvents waits until the page's events are want, or stray from
	// it, and fails in that case.
	waitEvents := func(t *testing.T, tab context.Context, want ...string) {
		t.Helper()
		w, _ := json.Marshal(want)
		js := `(function () {
			var e = window.events || [], w = ` + string(w) + `;
			for (var i = 0; i < e.length; i++) { if (i >= w.length || e[i] !== w[i]) { return true; } }
			return e.length === w.length;
		})()`
		_, err := chromedp.Run(tab, chromedp.Poll[bool](js))
		got, _ := chromedp.Run(tab, chromedp.Evaluate[[]string](`window.events || []`))
		if err != nil || strings.Join(got, "|") != strings.Join(want, "|") {
			t.Fatalf("the page's events: got %q (%v), want %q", got, err, want)
		}
	}
	pushState := func(t *testing.T, tab context.Context) {
		if _, err := chromedp.Run(tab, chromedp.Evaluate[bool](`history.pushState({}, "", "/wecom/app/orders?tab=2#top"), true`)); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("Android: both configs, again after pushState with the current URL", func(t *testing.T) {
		r, srv := wecomSite(t)
		tab := open(t, srv, androidWeCom)
		entry := srv.URL + "/wecom/app?x=1"
		waitEvents(t, tab, "ready "+entry, "agent-ready "+entry)
		pushState(t, tab)
		routed := srv.URL + "/wecom/app/orders?tab=2"
		waitEvents(t, tab, "ready "+entry, "agent-ready "+entry, "ready "+routed, "agent-ready "+routed)
		if n, m := r.corp.fetched(), r.agent.fetched(); n != 1 || m != 1 {
			t.Errorf("fetches: corp %d, agent %d; want 1 each", n, m)
		}
	})

	t.Run("iOS: the entry URL, after pushState too", func(t *testing.T) {
		_, srv := wecomSite(t)
		tab := open(t, srv, iosWeCom)
		entry := srv.URL + "/wecom/app?x=1"
		waitEvents(t, tab, "ready "+entry, "agent-ready "+entry)
		pushState(t, tab)
		waitEvents(t, tab, "ready "+entry, "agent-ready "+entry, "ready "+entry, "agent-ready "+entry)
	})

	t.Run("a stale agent_config ticket: one report, one fetch of it", func(t *testing.T) {
		r, srv := wecomSite(t)
		if _, err := r.agent.Ticket(context.Background()); err != nil { // cached, then replaced behind the server's back
			t.Fatal(err)
		}
		r.agent.replace()
		tab := open(t, srv, androidWeCom)
		entry := srv.URL + "/wecom/app?x=1"
		// wx.config passes; wx.agentConfig fails and is reported; the
		// script configures again: both pass.
		waitEvents(t, tab, "ready "+entry, "ready "+entry, "agent-ready "+entry)
		if n, m := r.corp.fetched(), r.agent.fetched(); n != 1 || m != 2 {
			t.Errorf("fetches: corp %d, agent %d; want 1 and 2 (the stale one, its renewal)", n, m)
		}
	})

	t.Run("a stale corp ticket: the corp's renewed, not the agent's", func(t *testing.T) {
		r, srv := wecomSite(t)
		r.corp.Ticket(context.Background())
		r.corp.replace()
		tab := open(t, srv, androidWeCom)
		entry := srv.URL + "/wecom/app?x=1"
		waitEvents(t, tab, "ready "+entry, "agent-ready "+entry)
		if n, m := r.corp.fetched(), r.agent.fetched(); n != 2 || m != 1 {
			t.Errorf("fetches: corp %d, agent %d; want 2 and 1", n, m)
		}
	})
}
