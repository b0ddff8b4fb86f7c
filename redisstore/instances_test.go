package redisstore_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	scsredis "github.com/alexedwards/scs/redisstore"
	"github.com/alexedwards/scs/v2"
	"github.com/alexedwards/scs/v2/memstore"
	"github.com/wechatauth/wechatauth"
	"github.com/wechatauth/wechatauth/internal/redistest"
	"github.com/wechatauth/wechatauth/internal/sitetest"
	"github.com/wechatauth/wechatauth/redisstore"
	"github.com/wechatauth/wechatauth/wechattest"
)

const (
	visitor      = "oTestUser0000000000000000001" // the emulator's default user
	instanceHdr  = "X-Test-Instance"              // which instance serves a request
	servedByHdr  = "X-Served-By"                  // which instance did
	errorBody    = "test error handler\n"         // what the recording ErrorHandler writes
	exchangePath = "/sns/oauth2/access_token"
)

// cluster is one app run as two instances, "a" and "b", the way a load
// balancer runs it: each instance has its own scs.SessionManager and
// wechatauth.Auth, and they share nothing but Redis. One listener serves
// both, so they share the CallbackURL's origin and the browser's cookie;
// the X-Test-Instance header of each request says which instance serves it.
type cluster struct {
	t     *testing.T
	redis *redistest.Server
	wx    *wechattest.Server
	url   string // the app's origin
	inst  map[string]*instance

	mu   sync.Mutex
	errs []error // what the ErrorHandlers were given
}

type instance struct {
	auth     *wechatauth.Auth
	sessions *scs.SessionManager
}

type clusterConfig struct {
	scope wechatauth.Scope
	// memorySessions keeps sessions in one in-process scs store that both
	// instances share, so that only the wechatauth stores use Redis.
	memorySessions bool
}

// newCluster starts Redis, the WeChat emulator and the two instances, with
// these routes on each:
//
//	/wechat/callback  the callback
//	/account/         protected: prints the instance and the user
//	/                 public: prints the instance
func newCluster(t *testing.T, cfg clusterConfig) *cluster {
	t.Helper()
	c := &cluster{t: t, redis: redistest.Start(t), wx: wechattest.NewServer(), inst: map[string]*instance{}}
	t.Cleanup(c.wx.Close)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.url = "http://" + ln.Addr().String()
	var shared scs.Store = scsredis.New(c.redis.Pool())
	if cfg.memorySessions {
		shared = memstore.NewWithCleanupInterval(0)
	}
	for _, name := range []string{"a", "b"} {
		sessions := scs.New()
		sessions.Store = shared
		store := redisstore.New(c.redis.Pool())
		auth, err := wechatauth.New(wechatauth.Options{
			AppID:        c.wx.AppID,
			AppSecret:    c.wx.AppSecret,
			CallbackURL:  c.url + "/wechat/callback",
			Scope:        cfg.scope,
			Sessions:     sessions,
			Users:        store,
			Tokens:       store,
			Callbacks:    store,
			HTTPClient:   c.wx.Client(),
			Endpoints:    c.wx.Endpoints(),
			Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
			ErrorHandler: c.recordError,
		})
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		sessions.ErrorFunc = auth.SessionStoreError
		c.inst[name] = &instance{auth: auth, sessions: sessions}
	}

	chains := map[string]http.Handler{}
	for name, in := range c.inst {
		mux := http.NewServeMux()
		mux.Handle("GET /wechat/callback", in.auth.CallbackHandler())
		mux.Handle("/account/", in.auth.RequireWeChatUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u, ok := wechatauth.UserFrom(r)
			if !ok {
				http.Error(w, "UserFrom: no user", http.StatusInternalServerError)
				return
			}
			fmt.Fprintf(w, "instance=%s openid=%s nickname=%s", name, u.OpenID, u.Nickname)
		})))
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "instance=%s public", name)
		})
		chains[name] = in.sessions.LoadAndSave(mux)
	}
	front := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.Header.Get(instanceHdr)
		chain, ok := chains[name]
		if !ok {
			http.Error(w, "no instance "+name, http.StatusMisdirectedRequest)
			return
		}
		w.Header().Set(servedByHdr, name)
		chain.ServeHTTP(w, r)
	})
	app := &httptest.Server{Listener: ln, Config: &http.Server{Handler: front}}
	app.Start()
	t.Cleanup(app.Close)
	return c
}

// recordError is every instance's Options.ErrorHandler.
func (c *cluster) recordError(w http.ResponseWriter, r *http.Request, err error) {
	c.mu.Lock()
	c.errs = append(c.errs, err)
	c.mu.Unlock()
	http.Error(w, strings.TrimSuffix(errorBody, "\n"), wechatauth.HTTPStatus(err))
}

// recordedErrors returns what the ErrorHandlers were given so far.
func (c *cluster) recordedErrors() []error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]error(nil), c.errs...)
}

func (c *cluster) exchanges() int { return c.wx.Calls(exchangePath) }

// browser is one cookie jar, sending each request to the instance it names.
type browser struct {
	c   *cluster
	jar *cookiejar.Jar
}

func (c *cluster) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{c: c, jar: jar}
}

// withCookies returns a new browser that holds the cookies another one
// held at a moment (see cookies): the same browser, before an answer that
// was lost.
func (c *cluster) withCookies(cs []*http.Cookie) *browser {
	b := c.browser()
	u, _ := url.Parse(c.url)
	for _, ck := range cs {
		b.jar.SetCookies(u, []*http.Cookie{{Name: ck.Name, Value: ck.Value, Path: "/"}})
	}
	return b
}

// cookies returns a copy of every cookie b holds for the app.
func (b *browser) cookies() []*http.Cookie {
	u, _ := url.Parse(b.c.url)
	return b.jar.Cookies(u)
}

// cookie returns the session cookie b holds.
func (b *browser) cookie() string {
	u, _ := url.Parse(b.c.url)
	for _, ck := range b.jar.Cookies(u) {
		if ck.Name == "session" {
			return ck.Value
		}
	}
	return ""
}

// client is b's HTTP client for requests to instance inst; follow chooses
// whether it follows redirects (to WeChat and back) or stops at each.
func (b *browser) client(inst string, follow bool) *http.Client {
	hc := &http.Client{Jar: b.jar, Transport: routeTo{inst, b.c.wx.Client().Transport}}
	if !follow {
		hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	return hc
}

// routeTo sets the header that picks the instance.
type routeTo struct {
	inst string
	base http.RoundTripper
}

func (rt routeTo) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set(instanceHdr, rt.inst)
	return rt.base.RoundTrip(r)
}

// get sends a page navigation to inst without following redirects.
func (b *browser) get(inst, rawURL string) (*http.Response, string) {
	b.c.t.Helper()
	return b.send(b.client(inst, false), rawURL)
}

// visit sends a page navigation to inst and follows every redirect, through
// WeChat and back, always to inst.
func (b *browser) visit(inst, rawURL string) (*http.Response, string) {
	b.c.t.Helper()
	return b.send(b.client(inst, true), rawURL)
}

func (b *browser) send(hc *http.Client, rawURL string) (*http.Response, string) {
	b.c.t.Helper()
	resp, body, err := fetch(hc, b.c.abs(rawURL))
	if err != nil {
		b.c.t.Fatalf("GET %s: %v", rawURL, err)
	}
	return resp, body
}

func (c *cluster) abs(rawURL string) string {
	if strings.HasPrefix(rawURL, "/") {
		return c.url + rawURL
	}
	return rawURL
}

// fetch is a GET as a browser's navigation sends it, with the body read.
// It is safe in any goroutine.
func fetch(hc *http.Client, rawURL string) (*http.Response, string, error) {
	return sitetest.Fetch(hc, http.MethodGet, rawURL, nil)
}

// callbackURL walks b through inst to WeChat and returns the callback URL
// WeChat sends it back to, without visiting it.
func (b *browser) callbackURL(inst, path string) string {
	b.c.t.Helper()
	resp, body := b.get(inst, path)
	if resp.StatusCode != http.StatusFound {
		b.c.t.Fatalf("GET %s: status %d, want 302 to WeChat; body %q", path, resp.StatusCode, body)
	}
	resp, body = b.get(inst, resp.Header.Get("Location"))
	cb := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(cb, b.c.url+"/wechat/callback?") {
		b.c.t.Fatalf("WeChat answered %d with Location %q, want a redirect to the callback; body %q", resp.StatusCode, cb, body)
	}
	return cb
}

// assertLoggedIn checks that a protected page served by inst knows b as openID.
func (b *browser) assertLoggedIn(inst, openID string) {
	b.c.t.Helper()
	resp, body := b.get(inst, "/account/check")
	want := "instance=" + inst + " openid=" + openID + " "
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(body, want) {
		b.c.t.Errorf("GET /account/check on %s: got %d %q, want 200 %q…", inst, resp.StatusCode, body, want)
	}
	if got := resp.Header.Get(servedByHdr); got != inst {
		b.c.t.Errorf("served by: got %q, want %q", got, inst)
	}
}

func TestLoginOnOneInstanceHoldsOnTheOther(t *testing.T) {
	c := newCluster(t, clusterConfig{scope: wechatauth.ScopeUserInfo})
	b := c.browser()
	resp, body := b.visit("a", "/account/orders")
	if want := "instance=a openid=" + visitor + " nickname=测试用户"; resp.StatusCode != http.StatusOK || body != want {
		t.Fatalf("login through a: got %d %q, want 200 %q", resp.StatusCode, body, want)
	}

	// The next request goes to b, which never saw the login.
	b.assertLoggedIn("b", visitor)

	// b's logged-in path costs one Redis command, the session read.
	c.redis.ResetStats()
	b.assertLoggedIn("b", visitor)
	if got, want := fmt.Sprint(c.redis.CommandStats()), fmt.Sprint(map[string]int64{"get": 1}); got != want {
		t.Errorf("Redis commands of a logged-in request: got %s, want %s", got, want)
	}

	// The user a stored is known to b: a login there fetches no profile.
	if got := c.wx.Calls("/sns/userinfo"); got != 1 {
		t.Fatalf("userinfo calls after the first login: got %d, want 1", got)
	}
	other := c.browser()
	if resp, body := other.visit("b", "/account/"); resp.StatusCode != http.StatusOK || !strings.Contains(body, "nickname=测试用户") {
		t.Fatalf("login through b: got %d %q", resp.StatusCode, body)
	}
	if got := c.wx.Calls("/sns/userinfo"); got != 1 {
		t.Errorf("userinfo calls after a second login on b: got %d, want 1 (the user is known)", got)
	}

	// The tokens are in Redis for any instance, not in a cookie.
	tok, err := redisstore.New(c.redis.Pool()).Token(context.Background(), visitor)
	if err != nil || tok.RefreshToken == "" {
		t.Fatalf("tokens in Redis: got %+v, %v; want a refresh token", tok, err)
	}
	if strings.Contains(b.cookie(), tok.RefreshToken) || strings.Contains(b.cookie(), tok.AccessToken) {
		t.Error("a token is in the session cookie")
	}
}

func TestCallbackSplitAcrossInstances(t *testing.T) {
	const page = "/account/orders?id=7"
	type delivery struct {
		b    *browser
		inst string
		url  string
	}
	cases := []struct {
		name       string
		concurrent bool
		// exchanges: each code once; a second code is exchanged to check
		// that it belongs to the same user.
		exchanges int
		// deliveries returns the two deliveries of callback cb to b, whose
		// cookies were before until the login.
		deliveries func(t *testing.T, c *cluster, b *browser, cb string, before []*http.Cookie) [2]delivery
	}{
		{"concurrent on a and b", true, 1, func(t *testing.T, c *cluster, b *browser, cb string, before []*http.Cookie) [2]delivery {
			return [2]delivery{{c.withCookies(before), "a", cb}, {c.withCookies(before), "b", cb}}
		}},
		{"concurrent, new code for the same state on b", true, 2, func(t *testing.T, c *cluster, b *browser, cb string, before []*http.Cookie) [2]delivery {
			return [2]delivery{{c.withCookies(before), "a", cb}, {c.withCookies(before), "b", withCode(t, cb, c.wx.IssueCode(visitor, "snsapi_base"))}}
		}},
		{"a, then b with the cookie from before (first answer lost)", false, 1, func(t *testing.T, c *cluster, b *browser, cb string, before []*http.Cookie) [2]delivery {
			return [2]delivery{{b, "a", cb}, {c.withCookies(before), "b", cb}}
		}},
		{"a, then reload on b", false, 1, func(t *testing.T, c *cluster, b *browser, cb string, before []*http.Cookie) [2]delivery {
			return [2]delivery{{b, "a", cb}, {b, "b", cb}}
		}},
		{"a, then a new code for the same state on b", false, 2, func(t *testing.T, c *cluster, b *browser, cb string, before []*http.Cookie) [2]delivery {
			return [2]delivery{{b, "a", cb}, {c.withCookies(before), "b", withCode(t, cb, c.wx.IssueCode(visitor, "snsapi_base"))}}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newCluster(t, clusterConfig{})
			b := c.browser()
			cb := b.callbackURL("a", page)
			ds := tc.deliveries(t, c, b, cb, b.cookies())

			type result struct {
				status   int
				location string
				err      error
			}
			var results [2]result
			deliver := func(i int) {
				resp, _, err := fetch(ds[i].b.client(ds[i].inst, false), ds[i].url)
				if err != nil {
					results[i].err = err
					return
				}
				results[i] = result{resp.StatusCode, resp.Header.Get("Location"), nil}
			}
			if tc.concurrent {
				c.wx.SetLatency(300 * time.Millisecond) // the first exchange is in flight when the second delivery comes
				var wg sync.WaitGroup
				for i := range ds {
					wg.Add(1)
					go func() { defer wg.Done(); deliver(i) }()
				}
				wg.Wait()
				c.wx.SetLatency(0)
			} else {
				deliver(0)
				deliver(1)
			}

			for i, r := range results {
				if r.err != nil || r.status != http.StatusFound || r.location != page {
					t.Errorf("delivery %d on %s: got %d to %q (%v), want 302 to %q", i, ds[i].inst, r.status, r.location, r.err, page)
				}
			}
			if got := c.exchanges(); got != tc.exchanges {
				t.Errorf("code exchanges: got %d, want %d", got, tc.exchanges)
			}
			for _, d := range ds {
				d.b.assertLoggedIn("a", visitor)
				d.b.assertLoggedIn("b", visitor)
			}
			if errs := c.recordedErrors(); len(errs) > 0 {
				t.Errorf("ErrorHandler calls: got %v, want none", errs)
			}
		})
	}
}

// withCode returns callback URL cb with its state kept and its code replaced.
var withCode = sitetest.WithCode

func TestRedisDownMidFlight(t *testing.T) {
	c := newCluster(t, clusterConfig{})
	b := c.browser()
	if resp, body := b.visit("a", "/account/"); resp.StatusCode != http.StatusOK {
		t.Fatalf("login: got %d %q, want 200", resp.StatusCode, body)
	}

	c.redis.Kill()
	newcomer := c.browser()
	requests := []struct {
		name string
		b    *browser
		inst string
		path string
	}{
		{"logged in, protected page on a", b, "a", "/account/"},
		{"logged in, protected page on b", b, "b", "/account/"},
		{"logged in, public page on b", b, "b", "/"},
	}
	for _, r := range requests {
		t.Run(r.name, func(t *testing.T) {
			before := len(c.recordedErrors())
			resp, body := r.b.get(r.inst, r.path)
			if resp.StatusCode != http.StatusServiceUnavailable {
				t.Errorf("status: got %d, want %d", resp.StatusCode, http.StatusServiceUnavailable)
			}
			if body != errorBody {
				t.Errorf("body: got %q, want the ErrorHandler's %q and nothing else", body, errorBody)
			}
			if got := resp.Header.Values("Set-Cookie"); len(got) > 0 {
				t.Errorf("Set-Cookie: got %q, want none (the session was not saved)", got)
			}
			if got := resp.Header.Get("Location"); got != "" {
				t.Errorf("Location: got %q, want none (the login state was not saved)", got)
			}
			if got := len(c.recordedErrors()) - before; got != 1 {
				t.Errorf("ErrorHandler calls: got %d, want 1", got)
			}
		})
	}

	// Starting a login needs no Redis: its state is in a cookie of its own.
	if resp, _ := newcomer.get("a", "/account/"); resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), c.wx.Endpoints().Authorize) {
		t.Errorf("no session yet, protected page on a: got %d to %q, want a redirect to WeChat", resp.StatusCode, resp.Header.Get("Location"))
	}
	c.redis.Restart()
	// The sessions died with Redis (no persistence): the same browser logs in
	// again, and both instances know it.
	resp, body := b.visit("b", "/account/again")
	if want := "instance=b openid=" + visitor + " "; resp.StatusCode != http.StatusOK || !strings.HasPrefix(body, want) {
		t.Fatalf("after Restart: got %d %q, want 200 %q…", resp.StatusCode, body, want)
	}
	b.assertLoggedIn("a", visitor)
	if got := c.exchanges(); got != 2 {
		t.Errorf("code exchanges: got %d, want 2 (one login before the outage, one after)", got)
	}
}

func TestCallbackWhileRedisIsDown(t *testing.T) {
	cases := []struct {
		name           string
		memorySessions bool
	}{
		{"sessions in Redis", false},
		// Only the wechatauth stores fail: their error reaches the handler.
		{"sessions in memory", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newCluster(t, clusterConfig{memorySessions: tc.memorySessions})
			b := c.browser()
			cb := b.callbackURL("a", "/account/z")

			c.redis.Kill()
			resp, body := b.get("b", cb)
			if resp.StatusCode != http.StatusServiceUnavailable || body != errorBody {
				t.Errorf("callback: got %d %q, want 503 %q", resp.StatusCode, body, errorBody)
			}
			if loc := resp.Header.Get("Location"); loc != "" {
				t.Errorf("Location: got %q, want none", loc)
			}
			errs := c.recordedErrors()
			if len(errs) != 1 {
				t.Fatalf("ErrorHandler calls: got %d (%v), want 1", len(errs), errs)
			}
			if tc.memorySessions && !strings.Contains(errs[0].Error(), "redisstore: ") {
				t.Errorf("error: got %q, want the Store's (\"redisstore: …\")", errs[0])
			}
			if got := c.exchanges(); got != 0 {
				t.Errorf("code exchanges: got %d, want 0 (no claim, no exchange)", got)
			}

			c.redis.Restart()
			resp, body = b.visit("a", "/account/z")
			if want := "instance=a openid=" + visitor + " "; resp.StatusCode != http.StatusOK || !strings.HasPrefix(body, want) {
				t.Fatalf("fresh login after Restart: got %d %q, want 200 %q…", resp.StatusCode, body, want)
			}
			b.assertLoggedIn("b", visitor)
		})
	}
}
