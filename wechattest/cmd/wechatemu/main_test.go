package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wechatauth/wechatauth/internal/testclock"
	"github.com/wechatauth/wechatauth/wechattest"
	"github.com/wechatauth/wechatauth/work"
)

// started is a running wechatemu and what it printed.
type started struct {
	url, authorize, appID, secret string
	banner                        string
	client                        *http.Client
	out                           *output
	logFrom                       int // the index of the first line after the banner
}

// output collects what the command prints, line by line.
type output struct {
	mu    sync.Mutex
	lines []string
	grew  chan struct{} // closed and replaced when a line comes or the output ends
	ended bool
}

func (o *output) add(line string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.lines = append(o.lines, line)
	close(o.grew)
	o.grew = make(chan struct{})
}

func (o *output) end() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.ended = true
	close(o.grew)
	o.grew = make(chan struct{})
}

// waitFor returns the index of the first line from index from on that
// contains want, waiting for it up to a generous cap.
func (o *output) waitFor(t *testing.T, from int, want string) int {
	t.Helper()
	limit := testclock.Patience(time.Minute)
	timeout := time.After(limit)
	for {
		o.mu.Lock()
		for i := from; i < len(o.lines); i++ {
			if strings.Contains(o.lines[i], want) {
				o.mu.Unlock()
				return i
			}
		}
		grew, ended, printed := o.grew, o.ended, strings.Join(o.lines, "\n")
		o.mu.Unlock()
		if ended {
			t.Fatalf("wechatemu ended without printing %q; printed %q", want, printed)
		}
		select {
		case <-grew:
		case <-timeout:
			t.Fatalf("no %q: %s; printed %q", want, testclock.RanOut("wechatemu", limit, "that line"), printed)
		}
	}
}

// start runs the command with args on a free loopback port and waits for
// its banner. The command stops when the test ends; the test fails if it
// then returns an error.
func start(t *testing.T, args ...string) started {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), pw, io.Discard)
		pw.CloseWithError(errors.Join(err, io.EOF))
		done <- err
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: got %v, want nil after the context ends", err)
		}
	})

	out := &output{grew: make(chan struct{})}
	go func() {
		defer out.end()
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			out.add(sc.Text())
		}
	}()
	last := out.waitFor(t, 0, "Ctrl-C stops it.")
	out.mu.Lock()
	banner := strings.Join(out.lines[:last+1], "\n") + "\n"
	out.mu.Unlock()

	s := started{banner: banner, out: out, logFrom: last + 1, client: &http.Client{
		Timeout:       testclock.Patience(time.Minute),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	field := func(name string) string {
		t.Helper()
		m := regexp.MustCompile(`(?m)^  ` + name + ` +(\S+)$`).FindStringSubmatch(s.banner)
		if m == nil {
			t.Fatalf("banner has no %q line: %q", name, s.banner)
		}
		return m[1]
	}
	s.url, s.authorize, s.appID, s.secret = field("api base"), field("authorize"), field("appid"), field("secret")
	return s
}

// logLine waits for the request log to show a line containing want and
// returns it.
func (s started) logLine(t *testing.T, want string) string {
	t.Helper()
	i := s.out.waitFor(t, s.logFrom, want)
	s.out.mu.Lock()
	defer s.out.mu.Unlock()
	return s.out.lines[i]
}

func (s started) get(t *testing.T, rawURL string) (*http.Response, string) {
	t.Helper()
	resp, err := s.client.Get(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func (s started) authorizeURL(redirectURI, scope, state string) string {
	return s.authorize + "?appid=" + url.QueryEscape(s.appID) + "&redirect_uri=" + url.QueryEscape(redirectURI) +
		"&response_type=code&scope=" + scope + "&state=" + state + "#wechat_redirect"
}

// login runs an authorization that is approved at once and exchanges its
// code, returning the token reply.
func (s started) login(t *testing.T, redirectURI string) map[string]any {
	t.Helper()
	resp, body := s.get(t, s.authorizeURL(redirectURI, "snsapi_userinfo", "st"))
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: got HTTP %d, want 302: %q", resp.StatusCode, body)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	_, body = s.get(t, s.url+"/sns/oauth2/access_token?appid="+url.QueryEscape(s.appID)+"&secret="+url.QueryEscape(s.secret)+
		"&code="+loc.Query().Get("code")+"&grant_type=authorization_code")
	var reply map[string]any
	if err := json.Unmarshal([]byte(body), &reply); err != nil {
		t.Fatalf("exchange: %q: %v", body, err)
	}
	return reply
}

func TestRunDefaults(t *testing.T) {
	s := start(t)
	for _, want := range []string{"not WeChat", "/sns/oauth2/access_token", "/sns/userinfo", "mode       consent"} {
		if !strings.Contains(s.banner, want) {
			t.Errorf("banner: want it to contain %q; got %q", want, s.banner)
		}
	}
	if got, want := s.authorize, s.url+"/connect/oauth2/authorize"; got != want {
		t.Errorf("authorize: got %q, want %q", got, want)
	}
	if s.appID != "wx0000000000000001" {
		t.Errorf("appid: got %q, want %q", s.appID, "wx0000000000000001")
	}
	// Consent mode: a page, not a redirect.
	resp, body := s.get(t, s.authorizeURL("http://127.0.0.1:1/cb", "snsapi_userinfo", "st"))
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="allow"`) {
		t.Errorf("authorize: got HTTP %d, want the consent page: %q", resp.StatusCode, body)
	}
}

func TestRunFlags(t *testing.T) {
	users := filepath.Join(t.TempDir(), "users.json")
	if err := os.WriteFile(users, []byte(`[{"openid":"oAlice","unionid":"uAlice","nickname":"Alice"},{"openid":"oBob","nickname":"Bob"}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	s := start(t, "-appid", "wxFlagApp0000001", "-secret", "flag-secret", "-mode", "auto", "-users", users,
		"-callback-domain", "app.example", "-scopes", "snsapi_userinfo")
	if s.appID != "wxFlagApp0000001" || s.secret != "flag-secret" {
		t.Errorf("credentials: got %q %q, want %q %q", s.appID, s.secret, "wxFlagApp0000001", "flag-secret")
	}
	reply := s.login(t, "https://app.example/cb")
	if reply["openid"] != "oAlice" || reply["unionid"] != "uAlice" {
		t.Errorf("exchange: got %v, want openid oAlice (the first user) and unionid uAlice", reply)
	}
	for _, tt := range []struct{ rawURL, want string }{
		{s.authorizeURL("https://pay.example/cb", "snsapi_userinfo", "st"), "10003"},
		{s.authorizeURL("https://app.example/cb", "snsapi_base", "st"), "10005"},
	} {
		if resp, body := s.get(t, tt.rawURL); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, tt.want) {
			t.Errorf("GET %s: got HTTP %d, want the %s page", tt.rawURL, resp.StatusCode, tt.want)
		}
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`[{"openid":"o bad"}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"mode", []string{"-mode", "sometimes"}, "-mode"},
		{"scope", []string{"-scopes", "snsapi_login"}, "-scopes"},
		{"domain with scheme", []string{"-callback-domain", "https://app.example"}, "-callback-domain"},
		{"missing users file", []string{"-users", filepath.Join(dir, "none.json")}, "-users"},
		{"bad openid", []string{"-users", bad}, "openid"},
		{"stray argument", []string{"serve"}, "unexpected argument"},
		{"bad address", []string{"-addr", "127.0.0.1:-1"}, "listening"},
		{"website appid of the account", []string{"-appid", "wxSame", "-website-appid", "wxSame"}, "-website-appid"},
		{"empty website secret", []string{"-website-secret", ""}, "-website-secret"},
		{"negative quota", []string{"-token-quota", "-1"}, "-token-quota"},
		{"negative ticket quota", []string{"-ticket-quota", "-2"}, "-ticket-quota"},
		{"corpid of the account", []string{"-corpid", "wx0000000000000001"}, "-corpid"},
		{"empty corpsecret", []string{"-corpsecret", ""}, "-corpsecret"},
		{"trusted domain with scheme", []string{"-wecom-trusted-domain", "https://corp.example"}, "-wecom-trusted-domain"},
		{"trusted IP not an IP", []string{"-wecom-trusted-ips", "127.0.0.1,localhost"}, "-wecom-trusted-ips"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel() // a good configuration would return at once too
			err := run(ctx, append([]string{"-addr", "127.0.0.1:0"}, tt.args...), io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("run: got %v, want an error mentioning %q", err, tt.want)
			}
		})
	}
}

func TestRunWebsiteAppAndGlobalToken(t *testing.T) {
	s := start(t, "-mode", "auto", "-website-appid", "wxFlagWeb0000001", "-website-secret", "web-flag-secret", "-token-quota", "1")
	field := func(name string) string {
		t.Helper()
		m := regexp.MustCompile(`(?m)^  ` + name + ` +(\S+)$`).FindStringSubmatch(s.banner)
		if m == nil {
			t.Fatalf("banner has no %q line: %q", name, s.banner)
		}
		return m[1]
	}
	qrconnect, webAppID, webSecret := field("qrconnect"), field("webappid"), field("websecret")
	if qrconnect != s.url+"/connect/qrconnect" || webAppID != "wxFlagWeb0000001" || webSecret != "web-flag-secret" {
		t.Errorf("banner: got qrconnect %q webappid %q websecret %q", qrconnect, webAppID, webSecret)
	}
	if !strings.Contains(s.banner, "POST /cgi-bin/menu/create") {
		t.Errorf("banner: want the cgi-bin endpoints listed; got %q", s.banner)
	}

	resp, body := s.get(t, qrconnect+"?appid="+webAppID+"&redirect_uri="+url.QueryEscape("http://127.0.0.1:1/cb")+
		"&response_type=code&scope=snsapi_login&state=st#wechat_redirect")
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("qrconnect: got HTTP %d, want 302: %q", resp.StatusCode, body)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	_, body = s.get(t, s.url+"/sns/oauth2/access_token?appid="+webAppID+"&secret="+webSecret+
		"&code="+loc.Query().Get("code")+"&grant_type=authorization_code")
	if !strings.Contains(body, `"scope":"snsapi_login"`) {
		t.Errorf("website exchange: got %q, want a snsapi_login token", body)
	}

	tokenURL := s.url + "/cgi-bin/token?grant_type=client_credential&appid=" + url.QueryEscape(s.appID) + "&secret=" + url.QueryEscape(s.secret)
	if _, body := s.get(t, tokenURL); !strings.Contains(body, `"expires_in":7200`) {
		t.Errorf("first /cgi-bin/token: got %q, want a token", body)
	}
	if _, body := s.get(t, tokenURL); !strings.Contains(body, `"errcode":45009`) {
		t.Errorf("second /cgi-bin/token with -token-quota 1: got %q, want 45009", body)
	}
}

// Each request is logged with its method, path and outcome, never with its
// query, which carries the secret and the code.
func TestRunLogsEachRequest(t *testing.T) {
	const secret = "log-test-secret-must-not-show"
	s := start(t, "-mode", "auto", "-secret", secret)
	reply := s.login(t, "http://127.0.0.1:1/cb")
	s.get(t, s.url+"/sns/oauth2/access_token?appid="+s.appID+"&secret="+secret+"&code=spent-or-unknown&grant_type=authorization_code")
	s.get(t, s.url+"/sns/userinfo?access_token="+reply["access_token"].(string)+"&openid="+reply["openid"].(string)+"&lang=zh_CN")

	for _, want := range []string{
		"method=GET path=/connect/oauth2/authorize status=302",
		"method=GET path=/sns/oauth2/access_token errcode=0",
		`method=GET path=/sns/oauth2/access_token errcode=40029 errmsg="invalid code"`,
		"method=GET path=/sns/userinfo errcode=0",
	} {
		s.logLine(t, want)
	}
	s.out.mu.Lock()
	defer s.out.mu.Unlock()
	for _, line := range s.out.lines[s.logFrom:] {
		if strings.Contains(line, secret) || strings.Contains(line, "?") || strings.Contains(line, "level=") {
			t.Errorf("log line %q: want neither the query nor a level", line)
		}
	}
}

// -users replaces the built-in test user: the consent page offers only
// the file's users.
func TestRunUsersReplaceTheBuiltInUser(t *testing.T) {
	users := filepath.Join(t.TempDir(), "users.json")
	if err := os.WriteFile(users, []byte(`[{"openid":"oAlice","nickname":"Alice"},{"openid":"oBob","nickname":"Bob"}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	s := start(t, "-users", users)
	resp, body := s.get(t, s.authorizeURL("http://127.0.0.1:1/cb", "snsapi_userinfo", "st"))
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "oAlice") || !strings.Contains(body, "oBob") {
		t.Fatalf("consent page: got HTTP %d, want one offering oAlice and oBob: %q", resp.StatusCode, body)
	}
	if strings.Contains(body, "oTestUser0000000000000000001") || strings.Contains(body, "测试用户") {
		t.Errorf("consent page: offers the built-in test user besides the -users file: %q", body)
	}
}

// The clock of a running emulator moves by POST /_emulator/advance: an
// access token expires without waiting two hours.
func TestRunAdvanceFromOutside(t *testing.T) {
	s := start(t, "-mode", "auto")
	reply := s.login(t, "http://127.0.0.1:1/cb")
	check := s.url + "/sns/auth?access_token=" + reply["access_token"].(string) + "&openid=" + reply["openid"].(string)
	if _, body := s.get(t, check); !strings.Contains(body, `"errcode":0`) {
		t.Fatalf("/sns/auth: got %q, want errcode 0", body)
	}
	resp, err := s.client.Post(s.url+"/_emulator/advance?d=2h1s", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("advance: got HTTP %d, want 200", resp.StatusCode)
	}
	if _, body := s.get(t, check); !strings.Contains(body, `"errcode":42001`) {
		t.Errorf("/sns/auth two hours on: got %q, want 42001", body)
	}
	s.logLine(t, "method=POST path=/_emulator/advance status=200")
	if !strings.Contains(s.banner, s.url+"/_emulator/advance?d=2h") {
		t.Errorf("banner: want the advance endpoint; got %q", s.banner)
	}
}

func TestRunHelpNamesTheClockEndpoint(t *testing.T) {
	var stderr strings.Builder
	err := run(context.Background(), []string{"-h"}, io.Discard, &stderr)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("run -h: got %v, want flag.ErrHelp", err)
	}
	for _, want := range []string{"POST /_emulator/advance?d=2h", "-users", "instead of the built-in one", "logs each request"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("-h: want %q in %q", want, stderr.String())
		}
	}
}

// The README's wechatemu section states the credentials the command
// really defaults to, and passes no other secret.
func TestReadmeStatesTheDefaultSecret(t *testing.T) {
	raw, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	i := strings.Index(readme, "### The emulator on its own")
	if i < 0 {
		t.Fatal(`README.md: no "### The emulator on its own" section`)
	}
	section := readme[i:]
	if end := strings.Index(section[1:], "\n#"); end >= 0 {
		section = section[:end+1]
	}
	s := start(t)
	for _, want := range []string{s.appID, s.secret} {
		if !strings.Contains(section, want) {
			t.Errorf("README's wechatemu section: want the default %q in %q", want, section)
		}
	}
	for _, m := range regexp.MustCompile(`-secret\s+(\S+)`).FindAllStringSubmatch(section, -1) {
		if strings.Trim(m[1], "`,.") != s.secret {
			t.Errorf("README's wechatemu section passes -secret %s; the default is %s", m[1], s.secret)
		}
	}
}

// The banner gives what an app needs: the endpoints of
// wechattest.EndpointsFor, the ticket endpoint, the users and the clock;
// each works as printed.
func TestRunBannerShowsWhatAnAppNeeds(t *testing.T) {
	users := filepath.Join(t.TempDir(), "users.json")
	if err := os.WriteFile(users, []byte(`[{"openid":"oAlice","nickname":"Alice"},{"openid":"oBob"}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	s := start(t, "-users", users, "-ticket-quota", "1")
	line := func(name string) string {
		t.Helper()
		m := regexp.MustCompile(`(?m)^  ` + name + ` +(.+)$`).FindStringSubmatch(s.banner)
		if m == nil {
			t.Fatalf("banner has no %q line: %q", name, s.banner)
		}
		return m[1]
	}
	e := wechattest.EndpointsFor(s.url)
	for _, tt := range []struct{ name, want string }{
		{"authorize", e.Authorize},
		{"qrconnect", e.QRConnect},
		{"api base", e.API},
		{"jssdk", e.JSSDK},
		{"ticket", e.API + "/cgi-bin/ticket/getticket?access_token=ACCESS_TOKEN&type=jsapi"},
		{"users", "oAlice (Alice), oBob; the first is the visitor"},
		{"quotas", "/cgi-bin/token 2000 a day, getticket 1 a day"},
		{"clock", "POST " + s.url + "/_emulator/advance?d=2h moves it forward"},
		{"in Go", `wechattest.EndpointsFor("` + s.url + `") gives these as mp.Endpoints`},
	} {
		if got := line(tt.name); got != tt.want {
			t.Errorf("banner %s: got %q, want %q", tt.name, got, tt.want)
		}
	}

	resp, _ := s.get(t, line("jssdk"))
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || !strings.HasPrefix(ct, "application/javascript") {
		t.Errorf("GET the jssdk line: got HTTP %d %q, want the script", resp.StatusCode, ct)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	_, body := s.get(t, s.url+"/cgi-bin/token?grant_type=client_credential&appid="+url.QueryEscape(s.appID)+"&secret="+url.QueryEscape(s.secret))
	if err := json.Unmarshal([]byte(body), &tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("/cgi-bin/token: got %q", body)
	}
	ticket := strings.Replace(line("ticket"), "ACCESS_TOKEN", tok.AccessToken, 1)
	if _, body := s.get(t, ticket); !strings.Contains(body, `"errcode":0,"errmsg":"ok","ticket":"`) {
		t.Errorf("GET the ticket line: got %q, want a ticket", body)
	}
	// -ticket-quota 1: the second call of the day is refused.
	if _, body := s.get(t, ticket); !strings.Contains(body, `"errcode":45009`) {
		t.Errorf("second getticket with -ticket-quota 1: got %q, want 45009", body)
	}
}

// The banner gives WeCom's credentials and endpoints beside the Official
// Account's; each works as printed, and the WeCom flags take effect.
func TestRunWeCom(t *testing.T) {
	const secret = "flag-corp-secret-must-not-show"
	s := start(t, "-mode", "auto", "-corpid", "wwFlagCorp000001", "-agentid", "1000009", "-corpsecret", secret,
		"-wecom-trusted-ips", "192.0.2.1,10.0.0.0/8", "-wecom-trusted-domain", "127.0.0.1:1")
	line := func(name string) string {
		t.Helper()
		m := regexp.MustCompile(`(?m)^  ` + name + ` +(.+)$`).FindStringSubmatch(s.banner)
		if m == nil {
			t.Fatalf("banner has no %q line: %q", name, s.banner)
		}
		return m[1]
	}
	e := work.EndpointsAt(s.url)
	for _, tt := range []struct{ name, want string }{
		{"corpid", "wwFlagCorp000001"},
		{"agentid", "1000009"},
		{"corpsecret", secret},
		{"weblogin", e.WebLogin},
		{"qrlogin", s.url + "/wwopen/sso/qrConnect"},
		{"wecom api", e.API},
		{"WeCom Go", `work.EndpointsAt("` + s.url + `")`},
	} {
		if got := line(tt.name); got != tt.want {
			t.Errorf("banner %s: got %q, want %q", tt.name, got, tt.want)
		}
	}
	if !strings.Contains(line("trusted"), "192.0.2.1,10.0.0.0/8") {
		t.Errorf("banner trusted: got %q, want the IP list", line("trusted"))
	}

	// In WeCom, approved at once for zhangsan.
	resp, body := s.get(t, e.Authorize+"?appid=wwFlagCorp000001&redirect_uri="+url.QueryEscape("http://127.0.0.1:1/cb")+
		"&response_type=code&scope=snsapi_base&state=st&agentid=1000009#wechat_redirect")
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: got HTTP %d %q, want 302", resp.StatusCode, body)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	_, body = s.get(t, e.API+"/cgi-bin/gettoken?corpid=wwFlagCorp000001&corpsecret="+secret)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal([]byte(body), &tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("gettoken: got %q", body)
	}
	// The caller, 127.0.0.1, is not a trusted IP.
	_, body = s.get(t, e.API+"/cgi-bin/auth/getuserinfo?access_token="+tok.AccessToken+"&code="+loc.Query().Get("code"))
	if !strings.HasPrefix(body, `{"errcode":60020,"errmsg":"not allow to access from your ip, hint: [`) || !strings.Contains(body, "from ip: 127.0.0.1,") {
		t.Errorf("getuserinfo from an untrusted IP: got %q, want 60020 naming 127.0.0.1", body)
	}
	s.logLine(t, `method=GET path=/cgi-bin/auth/getuserinfo errcode=60020 errmsg="not allow to access from your ip"`)
	// Outside the trusted domain: WeCom's uriconfirm page.
	resp, _ = s.get(t, e.Authorize+"?appid=wwFlagCorp000001&redirect_uri="+url.QueryEscape("http://127.0.0.1:2/cb")+
		"&response_type=code&scope=snsapi_base&state=st&agentid=1000009")
	if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, s.url+"/wwopen/uriconfirm?err_type=domain_err&uri=") {
		t.Errorf("untrusted domain: got Location %q, want the uriconfirm page", loc)
	}
	s.out.mu.Lock()
	defer s.out.mu.Unlock()
	for _, l := range s.out.lines[s.logFrom:] {
		if strings.Contains(l, secret) || strings.Contains(l, tok.AccessToken) {
			t.Errorf("log line %q holds the secret or the token", l)
		}
	}
}

// -wecom-created-after-20220620: user/get withholds the sensitive fields.
func TestRunWeComCreatedAfter20220620(t *testing.T) {
	s := start(t, "-wecom-created-after-20220620")
	if !strings.Contains(s.banner, "created after 2022-06-20") {
		t.Errorf("banner: want the app's creation said; got %q", s.banner)
	}
	_, body := s.get(t, s.url+"/cgi-bin/gettoken?corpid=ww0000000000000001&corpsecret=emulator-corpsecret-0000000000000")
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal([]byte(body), &tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("gettoken with the default credentials: got %q", body)
	}
	_, body = s.get(t, s.url+"/cgi-bin/user/get?access_token="+tok.AccessToken+"&userid=zhangsan")
	if !strings.Contains(body, `"name":"张三"`) || !strings.Contains(body, `"mobile":""`) || !strings.Contains(body, `"gender":"0"`) {
		t.Errorf("user/get: got %q, want the name and an empty mobile", body)
	}
}
