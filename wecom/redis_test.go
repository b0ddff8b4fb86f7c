package wecom_test

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	scsredis "github.com/alexedwards/scs/redisstore"
	"github.com/alexedwards/scs/v2"
	"github.com/wechatauth/wechatauth/internal/redistest"
	"github.com/wechatauth/wechatauth/redisstore"
	"github.com/wechatauth/wechatauth/wechattest"
	"github.com/wechatauth/wechatauth/wecom"
	"github.com/wechatauth/wechatauth/work"
)

// Two instances of one app on one real redis-server, as a load balancer
// runs them: each has its own scs.SessionManager and wecom.Auth, and they
// share nothing but Redis (sessions, callbacks, the corp access_token).
// One listener serves both; the header X-Test-Instance picks one.
// A callback delivered to both at once is exchanged once, the browser is
// logged in on both, and the corp token is fetched once for every login
// of either.
func TestTwoInstancesOnRedisShareALoginAndTheCorpToken(t *testing.T) {
	rs := redistest.Start(t)
	wx := wechattest.NewServer()
	t.Cleanup(wx.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	appURL := "http://" + ln.Addr().String()
	store := redisstore.New(rs.Pool())
	handlers := map[string]http.Handler{}
	for _, name := range []string{"a", "b"} {
		sessions := scs.New()
		sessions.Store = scsredis.New(rs.Pool())
		auth, err := wecom.New(wecom.Options{
			CorpID: wx.CorpID, AgentID: wx.AgentID, Secret: wx.CorpSecret,
			CallbackURL: appURL + "/wecom/callback",
			Sessions:    sessions,
			Callbacks:   store,
			TokenCache:  store.CredentialCache(work.AccessTokenCredential, wx.CorpID+"/"+wx.AgentID),
			HTTPClient:  wx.Client(), Endpoints: wx.WeComEndpoints(),
			Logger: slog.New(slog.DiscardHandler),
		})
		if err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		mux.Handle("/wecom/callback", auth.CallbackHandler())
		mux.Handle("/account/", auth.RequireMember(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			m, _ := wecom.MemberFrom(r)
			fmt.Fprintf(w, "instance=%s userid=%s", name, m.UserID)
		})))
		handlers[name] = sessions.LoadAndSave(mux)
	}
	app := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handlers[r.Header.Get("X-Test-Instance")].ServeHTTP(w, r)
	})}}
	app.Start()
	t.Cleanup(app.Close)

	jar, _ := cookiejar.New(nil)
	on := func(inst string, follow bool) *http.Client {
		base := wx.Client().Transport
		c := &http.Client{Jar: jar, Transport: roundTrip(func(r *http.Request) (*http.Response, error) {
			r = r.Clone(r.Context())
			r.Header.Set("User-Agent", uaWeComIOS)
			r.Header.Set("Accept", "text/html")
			if strings.HasPrefix(r.URL.String(), appURL) {
				r.Header.Set("X-Test-Instance", inst)
			}
			return base.RoundTrip(r)
		})}
		if !follow {
			c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		}
		return c
	}
	get := func(c *http.Client, u string) (*http.Response, string) {
		t.Helper()
		resp, err := c.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}

	// The login starts on a; WeCom's callback reaches a and b at once.
	resp, _ := get(on("a", false), appURL+"/account/orders")
	resp, _ = get(on("a", false), resp.Header.Get("Location"))
	cb := resp.Header.Get("Location")
	if !strings.HasPrefix(cb, appURL+"/wecom/callback?") {
		t.Fatalf("WeCom sent the browser to %q", cb)
	}
	wx.SetLatency(200 * time.Millisecond) // the first exchange is in flight when the second delivery comes
	var wg sync.WaitGroup
	locs := map[string]string{}
	var mu sync.Mutex
	for _, inst := range []string{"a", "b"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := on(inst, false).Get(cb)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			mu.Lock()
			locs[inst] = fmt.Sprint(resp.StatusCode, " ", resp.Header.Get("Location"))
			mu.Unlock()
		}()
	}
	wg.Wait()
	wx.SetLatency(0)
	for inst, loc := range locs {
		if loc != "302 /account/orders" {
			t.Errorf("delivery on %s: %s, want 302 /account/orders", inst, loc)
		}
	}
	for _, inst := range []string{"a", "b"} {
		if _, body := get(on(inst, false), appURL+"/account/x"); body != "instance="+inst+" userid=zhangsan" {
			t.Errorf("on %s: %q, want logged in as zhangsan", inst, body)
		}
	}
	if n := wx.Calls("/cgi-bin/auth/getuserinfo"); n != 1 {
		t.Errorf("code exchanges: %d, want 1", n)
	}

	// More logins of other browsers, on either instance, reuse the token.
	for i, inst := range []string{"b", "a", "b"} {
		jar, _ = cookiejar.New(nil)
		if _, body := get(on(inst, true), appURL+"/account/"); body != "instance="+inst+" userid=zhangsan" {
			t.Errorf("login %d on %s: %q", i+2, inst, body)
		}
	}
	if n := wx.Calls("/cgi-bin/gettoken"); n != 1 {
		t.Errorf("gettoken calls: %d, want 1 for both instances", n)
	}
	if n := wx.Calls("/cgi-bin/auth/getuserinfo"); n != 4 {
		t.Errorf("code exchanges: %d, want 4", n)
	}
}
