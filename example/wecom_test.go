package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/wechatauth/wechatauth/internal/redistest"
	"github.com/wechatauth/wechatauth/wechattest"
)

// One variable gives WeCom mode on the emulator, WECOM_CORPID and the
// rest a real corp; none leaves the Official Account's demo as it was.
func TestConfigFromEnvWeCom(t *testing.T) {
	const site = "http://127.0.0.1:8080"
	for _, tt := range []struct {
		name string
		env  map[string]string
		want config
	}{
		{"nothing: the Official Account on the emulator", nil,
			config{CallbackURL: site + "/wechat/callback", Scope: "snsapi_userinfo"}},
		{"WECOM=1: the emulator's corp", map[string]string{"WECOM": "1"},
			config{WeCom: true, CallbackURL: site + "/wecom/callback"}},
		{"a real corp", map[string]string{
			"WECOM_CORPID": "ww0123456789abcdef", "WECOM_AGENTID": "1000002", "WECOM_SECRET": "s3cret",
			"WECOM_CALLBACK_URL": "https://app.example.com/wecom/callback", "WECOM_ALLOW_NON_MEMBERS": "1",
			"WECHAT_APPID": "wxIgnored", "REDIS_ADDR": "127.0.0.1:6379",
		}, config{
			WeCom: true, CorpID: "ww0123456789abcdef", AgentID: "1000002", CorpSecret: "s3cret",
			CallbackURL: "https://app.example.com/wecom/callback", AllowNonMembers: true, RedisAddr: "127.0.0.1:6379",
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"WECOM", "WECOM_CORPID", "WECOM_AGENTID", "WECOM_SECRET", "WECOM_CALLBACK_URL",
				"WECOM_ALLOW_NON_MEMBERS", "WECHAT_APPID", "WECHAT_SECRET", "WECHAT_CALLBACK_URL", "WECHAT_SCOPE",
				"WECHATAUTH_DEBUG", "REDIS_ADDR"} {
				t.Setenv(k, tt.env[k])
			}
			got := configFromEnv(site)
			if got.WeCom != tt.want.WeCom || got.CorpID != tt.want.CorpID || got.AgentID != tt.want.AgentID ||
				got.CorpSecret != tt.want.CorpSecret || got.CallbackURL != tt.want.CallbackURL ||
				got.AllowNonMembers != tt.want.AllowNonMembers || got.AppID != tt.want.AppID ||
				got.Scope != tt.want.Scope || got.RedisAddr != tt.want.RedisAddr {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// Two instances of the WeCom app on one Redis, behind one address, share
// sessions and logins, and fetch the corp access_token once between them.
func TestWeComAppWithRedis(t *testing.T) {
	srv := redistest.Start(t)
	wx := wechattest.NewServer() // the Web login confirms at once, for 张三
	defer wx.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	site := "http://" + ln.Addr().String()
	var handlers [2]http.Handler
	for i := range handlers {
		h, closeApp, err := newApp(config{
			WeCom: true, CorpID: wx.CorpID, AgentID: wx.AgentID, CorpSecret: wx.CorpSecret,
			CallbackURL: site + "/wecom/callback", WeComEndpoints: wx.WeComEndpoints(), RedisAddr: srv.Addr(),
		})
		if err != nil {
			t.Fatal(err)
		}
		defer closeApp()
		handlers[i] = h
	}
	// Requests alternate between the instances: each login starts on one,
	// comes back to the other's callback, and ends on the first.
	var n atomic.Int64
	app := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handlers[n.Add(1)%2].ServeHTTP(w, r)
	})}}
	app.Start()
	defer app.Close()

	for person := 0; person < 2; person++ {
		jar, _ := cookiejar.New(nil)
		browser := &http.Client{Jar: jar}
		for visit := 0; visit < 3; visit++ { // 5 requests: the next login's callback goes to the other instance
			resp, err := browser.Get(site + "/account/")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `<dd id="userid">zhangsan</dd>`) {
				t.Fatalf("person %d, visit %d: status %d, body %q", person, visit, resp.StatusCode, body)
			}
		}
	}
	if got := wx.Calls("/cgi-bin/auth/getuserinfo"); got != 2 {
		t.Errorf("code exchanges: got %d, want 2, one by each instance", got)
	}
	if got := wx.Calls("/cgi-bin/gettoken"); got != 1 {
		t.Errorf("gettoken calls: got %d, want 1: the instances share the corp access_token in Redis", got)
	}
}

// Five instances of the WeCom app on one Redis, as REDIS_ADDR runs them,
// serve many configs of both kinds and fetch the corp access_token, the
// corp's jsapi_ticket and the app's ticket once between them; every
// config is one the emulator's stand-in accepts.
func TestWeComJSSDKFiveInstancesWithRedis(t *testing.T) {
	srv := redistest.Start(t)
	wx := wechattest.NewServer()
	defer wx.Close()
	const site, instances, configs = "http://127.0.0.1:8080", 5, 40
	page := site + "/account/jssdk?tab=orders"
	apps := make([]http.Handler, instances)
	for i := range apps {
		h, closeApp, err := newApp(config{
			WeCom: true, CorpID: wx.CorpID, AgentID: wx.AgentID, CorpSecret: wx.CorpSecret,
			CallbackURL: site + "/wecom/callback", WeComEndpoints: wx.WeComEndpoints(), RedisAddr: srv.Addr(),
		})
		if err != nil {
			t.Fatal(err)
		}
		defer closeApp()
		apps[i] = h
	}

	type answer struct {
		Config      map[string]any `json:"config"`
		AgentConfig map[string]any `json:"agentConfig"`
	}
	answers := make([]answer, instances*configs)
	var wg sync.WaitGroup
	for i := range answers {
		wg.Add(1)
		go func() { // every instance at once, as a page view on each
			defer wg.Done()
			rec := httptest.NewRecorder()
			apps[i%instances].ServeHTTP(rec, httptest.NewRequest("GET", "/wecom/jssdk?agent=1&url="+url.QueryEscape(page), nil))
			if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &answers[i]) != nil {
				t.Errorf("config %d: HTTP %d, %q", i, rec.Code, rec.Body)
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	for path, what := range map[string]string{
		"/cgi-bin/gettoken": "corp access_token", "/cgi-bin/get_jsapi_ticket": "corp's jsapi_ticket", "/cgi-bin/ticket/get": "app's ticket",
	} {
		if got := wx.Calls(path); got != 1 {
			t.Errorf("%s calls (the %s): got %d for %d configs on %d instances, want 1", path, what, got, len(answers), instances)
		}
	}
	t.Logf("%d configs of both kinds on %d instances: %d gettoken, %d get_jsapi_ticket, %d ticket/get", len(answers), instances,
		wx.Calls("/cgi-bin/gettoken"), wx.Calls("/cgi-bin/get_jsapi_ticket"), wx.Calls("/cgi-bin/ticket/get"))

	// The stand-in's check, as the page's wx.config and wx.agentConfig ask
	// for it: the first and last config of each instance.
	verify := func(fields map[string]any) string {
		fields["url"] = page
		body, _ := json.Marshal(fields)
		resp, err := wx.Client().Post(wx.URL+"/open/js/verify", "text/plain", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var res struct{ ErrMsg string }
		if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
			t.Fatal(err)
		}
		return res.ErrMsg
	}
	for _, i := range []int{0, 1, 2, 3, 4, len(answers) - 5, len(answers) - 4, len(answers) - 3, len(answers) - 2, len(answers) - 1} {
		a := answers[i]
		if got := verify(a.Config); got != "config:ok" {
			t.Errorf("config %d: the stand-in says %q to wx.config, want config:ok", i, got)
		}
		if a.AgentConfig == nil {
			t.Fatalf("config %d: no agentConfig", i)
		}
		a.AgentConfig["api"] = "agentConfig"
		if got := verify(a.AgentConfig); got != "agentConfig:ok" {
			t.Errorf("config %d: the stand-in says %q to wx.agentConfig, want agentConfig:ok", i, got)
		}
	}
}
