package jssdk_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wechatauth/wechatauth/jssdk"
	"github.com/wechatauth/wechatauth/mp"
	"github.com/wechatauth/wechatauth/wechattest"
)

const (
	site       = "https://app.example"
	pathTicket = "/cgi-bin/ticket/getticket"
)

// rig is a Signer over the emulator's ticket, with a clock of its own.
type rig struct {
	wx      *wechattest.Server
	tickets mp.TicketSource
	signer  *jssdk.Signer
	log     *bytes.Buffer

	mu  sync.Mutex
	now time.Time
}

func newRig(t *testing.T, change func(o *jssdk.Options)) *rig {
	t.Helper()
	wx := wechattest.NewServer()
	t.Cleanup(wx.Close)
	client := &mp.Client{AppID: wx.AppID, AppSecret: wx.AppSecret, HTTPClient: wx.Client(), Endpoints: wx.Endpoints()}
	r := &rig{wx: wx, log: new(bytes.Buffer), now: time.Now()}
	r.tickets = mp.NewTicketSource(client, mp.NewAccessTokenSource(client, mp.CredentialOptions{}), mp.CredentialOptions{})
	o := jssdk.Options{
		AppID: wx.AppID, Tickets: r.tickets, Origins: []string{site, "http://127.0.0.1:8080"},
		APIs:   []string{"updateAppMessageShareData", "getLocation"},
		Logger: slog.New(slog.NewTextHandler(r.log, nil)),
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

func (r *rig) advance(d time.Duration) {
	r.mu.Lock()
	r.now = r.now.Add(d)
	r.mu.Unlock()
}

// get asks the handler for the config of pageURL, with extra query pairs.
func (r *rig) get(t *testing.T, pageURL string, extra ...string) *httptest.ResponseRecorder {
	t.Helper()
	q := url.Values{"url": {pageURL}}
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	w := httptest.NewRecorder()
	r.signer.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/wechat/jssdk?"+q.Encode(), nil))
	return w
}

func (r *rig) config(t *testing.T, pageURL string) jssdk.Config {
	t.Helper()
	w := r.get(t, pageURL)
	if w.Code != http.StatusOK {
		t.Fatalf("GET config of %q: HTTP %d: %s", pageURL, w.Code, w.Body)
	}
	var c jssdk.Config
	if err := json.Unmarshal(w.Body.Bytes(), &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// verify has the emulator check c on a page at pageURL, as its jweixin
// stand-in does, and returns its errMsg.
func (r *rig) verify(t *testing.T, c jssdk.Config, pageURL string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"appId": c.AppID, "timestamp": c.Timestamp, "nonceStr": c.NonceStr, "signature": c.Signature, "url": pageURL})
	resp, err := r.wx.Client().Post(r.wx.URL+"/open/js/verify", "text/plain", bytes.NewReader(body))
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

// report posts c back as the page script does after "invalid signature".
func (r *rig) report(t *testing.T, c jssdk.Config, pageURL string) (int, string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"url": pageURL, "timestamp": c.Timestamp, "nonceStr": c.NonceStr, "signature": c.Signature})
	w := httptest.NewRecorder()
	r.signer.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/wechat/jssdk", bytes.NewReader(body)))
	return w.Code, strings.TrimSpace(w.Body.String())
}

func TestConfigJSONIsWhatWxConfigTakes(t *testing.T) {
	r := newRig(t, nil)
	w := r.get(t, site+"/account/")
	if w.Code != http.StatusOK {
		t.Fatalf("HTTP %d: %s", w.Code, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type: got %q, want JSON", ct)
	}
	if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control: got %q, want %q", cc, "no-store")
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(w.Body.Bytes(), &fields); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range fields {
		keys = append(keys, k)
	}
	want := []string{"appId", "jsApiList", "nonceStr", "openTagList", "signature", "timestamp"}
	if got := strings.Join(sorted(keys), ","); got != strings.Join(want, ",") {
		t.Errorf("keys: got %q, want %q", got, strings.Join(want, ","))
	}
	if got := string(fields["openTagList"]); got != "[]" {
		t.Errorf("openTagList: got %s, want []", got)
	}
	if got := string(fields["jsApiList"]); got != `["updateAppMessageShareData","getLocation"]` {
		t.Errorf("jsApiList: got %s, want Options.APIs", got)
	}
	if fields["timestamp"][0] == '"' {
		t.Errorf("timestamp: got the string %s, want a number", fields["timestamp"])
	}
	ticket, _ := r.tickets.Ticket(context.Background())
	if strings.Contains(w.Body.String(), ticket) {
		t.Errorf("the answer holds the ticket")
	}

	d := newRig(t, func(o *jssdk.Options) { o.Debug = true })
	if body := d.get(t, site+"/").Body.String(); !strings.Contains(body, `"debug":true`) {
		t.Errorf("with Debug: got %s, want \"debug\":true", body)
	}
	custom := r.get(t, site+"/", "apis", "scanQRCode,chooseImage", "tags", "wx-open-launch-weapp")
	var c jssdk.Config
	json.Unmarshal(custom.Body.Bytes(), &c)
	if strings.Join(c.JSAPIList, ",") != "scanQRCode,chooseImage" || strings.Join(c.OpenTagList, ",") != "wx-open-launch-weapp" {
		t.Errorf("apis and tags of the request: got %v and %v", c.JSAPIList, c.OpenTagList)
	}
}

func sorted(s []string) []string {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s
}

// TestConfigPassesTheEmulatorsCheck: the config of each page URL verifies
// against the ticket the emulator issued and the URL without fragment.
func TestConfigPassesTheEmulatorsCheck(t *testing.T) {
	r := newRig(t, nil)
	for _, tt := range goodURLs {
		t.Run(tt.name, func(t *testing.T) {
			c := r.config(t, tt.page)
			if got := r.verify(t, c, tt.signed); got != "config:ok" {
				t.Errorf("emulator's check on %q: got %q, want %q", tt.signed, got, "config:ok")
			}
		})
	}
	if got := r.wx.Calls(pathTicket); got != 1 {
		t.Errorf("getticket calls: got %d, want 1 (the ticket is cached)", got)
	}
}

// goodURLs are page URLs of the Signer's origins and the URL each is
// signed as: WeChat's and WeCom's pages alike.
var goodURLs = []struct{ name, page, signed string }{
	{"plain", site + "/account/jssdk", site + "/account/jssdk"},
	{"query", site + "/account/?x=1&y=%E4%B8%AD", site + "/account/?x=1&y=%E4%B8%AD"},
	{"fragment dropped", site + "/app/#/orders/7?tab=2", site + "/app/"},
	{"non-ASCII path", site + "/%E4%B8%AD%E6%96%87/", site + "/%E4%B8%AD%E6%96%87/"},
	{"raw non-ASCII path", site + "/中文/?q=值", site + "/中文/?q=值"},
	{"share parameters", site + "/a?id=7&from=singlemessage&isappinstalled=0", site + "/a?id=7&from=singlemessage&isappinstalled=0"},
	{"an escaped URL in the query", site + "/a?next=https%3A%2F%2Fapp.example%2F%3Fa%3D1", site + "/a?next=https%3A%2F%2Fapp.example%2F%3Fa%3D1"},
	{"second origin, with a port", "http://127.0.0.1:8080/x", "http://127.0.0.1:8080/x"},
	{"default port", "https://app.example:443/x", "https://app.example:443/x"},
	{"upper-case host", "https://APP.example/x", "https://APP.example/x"},
}

// badURLs are page URLs that break a rule, and what the 400 says: WeChat's
// and WeCom's pages alike.
var badURLs = []struct{ name, url, want string }{
	{"missing", "", "url is missing"},
	{"relative", "/account/", "absolute http(s) URL"},
	{"encoded twice", url.QueryEscape(site + "/account/"), "encoded twice"},
	{"another scheme", "ftp://app.example/", "absolute http(s) URL"},
	{"another origin", "https://evil.example/account/", `the origin "https://evil.example" is not one of Options.Origins (https://app.example, http://127.0.0.1:8080)`},
	{"a subdomain", "https://www.app.example/", "is not one of Options.Origins"},
	{"another scheme of the origin", "http://app.example/", `the origin "http://app.example" is not one`},
	{"another port", "http://127.0.0.1:9090/", "is not one of Options.Origins"},
	{"HTML-escaped", site + "/a?x=1&amp;y=2", "&amp;"},
	{"a space", site + "/a b", "spaces or control characters"},
	{"user info", "https://user:pw@app.example/", "user name or password"},
	{"too long", site + "/" + strings.Repeat("a", 5000), "at most 4096"},
}

func TestConfigRefusesABadURL(t *testing.T) {
	r := newRig(t, nil)
	for _, tt := range badURLs {
		t.Run(tt.name, func(t *testing.T) {
			w := r.get(t, tt.url)
			var body struct{ Error string }
			json.Unmarshal(w.Body.Bytes(), &body)
			if w.Code != http.StatusBadRequest || !strings.Contains(body.Error, tt.want) {
				t.Errorf("got HTTP %d %q, want 400 with %q", w.Code, body.Error, tt.want)
			}
		})
	}
	for _, tt := range []struct{ key, value string }{
		{"apis", "getLocation,<script>"},
		{"tags", "wx-open-launch-weapp,"},
	} {
		w := r.get(t, site+"/", tt.key, tt.value)
		if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "is not an API or open tag name") {
			t.Errorf("%s=%s: got HTTP %d %s, want 400 naming the rule", tt.key, tt.value, w.Code, w.Body)
		}
	}
	if got := r.wx.Calls(pathTicket); got != 0 {
		t.Errorf("getticket calls for bad requests: got %d, want 0", got)
	}
}

func TestSignForServerRenderedPages(t *testing.T) {
	r := newRig(t, nil)
	page := site + "/article/42?from=timeline"
	c, err := r.signer.Sign(context.Background(), page+"#comments")
	if err != nil {
		t.Fatal(err)
	}
	if got := r.verify(t, c, page); got != "config:ok" {
		t.Errorf("emulator's check: got %q, want %q", got, "config:ok")
	}
	if c.AppID != r.wx.AppID || len(c.NonceStr) < 16 || c.Timestamp == 0 {
		t.Errorf("config: %+v", c)
	}
	if again, _ := r.signer.Sign(context.Background(), page); again.NonceStr == c.NonceStr {
		t.Errorf("two configs with the nonce %q, want a fresh one each", c.NonceStr)
	}
	if _, err := r.signer.Sign(context.Background(), "https://evil.example/"); !errors.Is(err, jssdk.ErrBadURL) {
		t.Errorf("Sign of another origin: got %v, want ErrBadURL", err)
	}
}

func TestSnapshotVisitorsGetNoConfig(t *testing.T) {
	r := newRig(t, func(o *jssdk.Options) {
		o.Snapshot = func(req *http.Request) bool { return req.Header.Get("X-Snapshot") == "1" }
	})
	req := httptest.NewRequest(http.MethodGet, "/wechat/jssdk?url="+url.QueryEscape(site+"/"), nil)
	req.Header.Set("X-Snapshot", "1")
	w := httptest.NewRecorder()
	r.signer.Handler().ServeHTTP(w, req)
	var body struct {
		Error    string
		Snapshot bool
	}
	json.Unmarshal(w.Body.Bytes(), &body)
	if w.Code != http.StatusForbidden || !body.Snapshot || !strings.Contains(body.Error, "snapshot") {
		t.Errorf("snapshot visitor: got HTTP %d %s, want 403 with snapshot true", w.Code, w.Body)
	}
	if got := r.wx.Calls(pathTicket); got != 0 {
		t.Errorf("getticket calls: got %d, want 0", got)
	}
	if w := r.get(t, site+"/"); w.Code != http.StatusOK {
		t.Errorf("another visitor: got HTTP %d, want 200", w.Code)
	}
}

// TestTicketUnavailableIs502WithoutDetails: WeChat busy twice in a row
// (the fetch and its one retry) is a 502 that does not show WeChat's
// answer, which goes to the log; the next request, within the back-off,
// gets the same without a call to WeChat.
func TestTicketUnavailableIs502WithoutDetails(t *testing.T) {
	r := newRig(t, nil)
	r.wx.FailNext(pathTicket, mp.CodeBusy)
	r.wx.FailNext(pathTicket, mp.CodeBusy)
	for i := range 2 {
		w := r.get(t, site+"/")
		if w.Code != http.StatusBadGateway || strings.Contains(w.Body.String(), "errcode") {
			t.Errorf("request %d: got HTTP %d %s, want 502 without WeChat's answer", i+1, w.Code, w.Body)
		}
	}
	if !strings.Contains(r.log.String(), "errcode -1") {
		t.Errorf("log: got %q, want WeChat's errcode", r.log)
	}
	if got := r.wx.Calls(pathTicket); got != 2 {
		t.Errorf("getticket calls: got %d, want 2 (the fetch, its retry; none in the back-off)", got)
	}
}

// TestInvalidSignatureRenewsTheTicketOnce: a page whose config WeChat
// refused reports it; the ticket it was signed with is dropped and a new
// one fetched, once per ticket and at most once per RenewInterval.
func TestInvalidSignatureRenewsTheTicketOnce(t *testing.T) {
	r := newRig(t, func(o *jssdk.Options) { o.RenewInterval = time.Minute })
	page := site + "/account/"
	stale := r.config(t, page)
	r.wx.StaleTickets()
	if got := r.verify(t, stale, page); got != "config:invalid signature" {
		t.Fatalf("stale ticket: got %q", got)
	}
	if code, body := r.report(t, stale, page); code != http.StatusOK || body != `{"renewed":true}` {
		t.Fatalf("report: got HTTP %d %s, want renewed", code, body)
	}
	if got := r.wx.Calls(pathTicket); got != 2 {
		t.Errorf("getticket calls: got %d, want 2 (the stale ticket, its renewal)", got)
	}
	fresh := r.config(t, page)
	if got := r.verify(t, fresh, page); got != "config:ok" {
		t.Errorf("after the renewal: got %q, want config:ok", got)
	}
	forged := fresh
	forged.Signature = strings.Repeat("0", 40)
	steps := []struct {
		name    string
		c       jssdk.Config
		advance time.Duration
	}{
		{"the same report again", stale, 0},
		{"a forged signature", forged, 0},
		{"a new ticket within RenewInterval", fresh, 30 * time.Second},
		{"another page, same limit", r.config(t, site+"/other"), 0},
	}
	for _, st := range steps {
		r.advance(st.advance)
		if code, body := r.report(t, st.c, page); code != http.StatusOK || body != `{"renewed":false}` {
			t.Errorf("%s: got HTTP %d %s, want renewed false", st.name, code, body)
		}
	}
	if got := r.wx.Calls(pathTicket); got != 2 {
		t.Errorf("getticket calls after refused reports: got %d, want 2", got)
	}
	r.advance(time.Minute)
	if _, body := r.report(t, fresh, page); body != `{"renewed":true}` {
		t.Errorf("after RenewInterval: got %s, want renewed", body)
	}
	if code, _ := r.report(t, fresh, "https://evil.example/"); code != http.StatusBadRequest {
		t.Errorf("report of another origin: got HTTP %d, want 400", code)
	}
	w := httptest.NewRecorder()
	r.signer.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/", strings.NewReader("not json")))
	if w.Code != http.StatusBadRequest {
		t.Errorf("report that is not JSON: got HTTP %d, want 400", w.Code)
	}
}

func TestHandlerMethods(t *testing.T) {
	r := newRig(t, nil)
	w := httptest.NewRecorder()
	r.signer.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodDelete, "/", nil))
	if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "GET, HEAD, POST" {
		t.Errorf("DELETE: got HTTP %d, Allow %q", w.Code, w.Header().Get("Allow"))
	}
}

func TestScriptHandler(t *testing.T) {
	r := newRig(t, nil)
	w := httptest.NewRecorder()
	r.signer.ScriptHandler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/wechat/jssdk.js", nil))
	body, _ := io.ReadAll(w.Body)
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/javascript") {
		t.Fatalf("got HTTP %d %q", w.Code, w.Header().Get("Content-Type"))
	}
	for _, want := range []string{"sessionStorage", "pushState", "invalid signature", "jssdk:ready", "jssdk:unavailable", "iPhone|iPad|iPod"} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("the script lacks %q", want)
		}
	}
	req := httptest.NewRequest(http.MethodGet, "/wechat/jssdk.js", nil)
	req.Header.Set("If-None-Match", w.Header().Get("ETag"))
	w = httptest.NewRecorder()
	r.signer.ScriptHandler().ServeHTTP(w, req)
	if w.Code != http.StatusNotModified {
		t.Errorf("with its ETag: got HTTP %d, want 304", w.Code)
	}
}

func TestNewNamesEveryProblem(t *testing.T) {
	tickets := mp.NewTicketSource(&mp.Client{}, nil, mp.CredentialOptions{})
	ok := jssdk.Options{AppID: "wx1234567890abcdef", Tickets: tickets, Origins: []string{site}}
	if _, err := jssdk.New(ok); err != nil {
		t.Fatalf("New of valid options: %v", err)
	}
	tests := []struct {
		name   string
		change func(o *jssdk.Options)
		want   []string
	}{
		{"nothing set", func(o *jssdk.Options) { *o = jssdk.Options{} }, []string{"Options.AppID", "Options.Tickets: is nil", "Options.Origins: is empty; list the origins"}},
		{"origin with a path", func(o *jssdk.Options) { o.Origins = []string{"https://app.example/wechat/"} }, []string{`Options.Origins[0]: must be an origin`}},
		{"origin without scheme", func(o *jssdk.Options) { o.Origins = []string{site, "app.example"} }, []string{`Options.Origins[1]: must be an http(s) origin`}},
		{"bad API name", func(o *jssdk.Options) { o.APIs = []string{"get Location"} }, []string{`Options.APIs: "get Location" is not an API`}},
		{"negative interval", func(o *jssdk.Options) { o.RenewInterval = -time.Second }, []string{"Options.RenewInterval"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := ok
			tt.change(&o)
			_, err := jssdk.New(o)
			for _, want := range tt.want {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("got %v, want an error containing %q", err, want)
				}
			}
		})
	}
}
