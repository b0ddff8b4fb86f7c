package redisstore_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/gomodule/redigo/redis"
	"github.com/wechatauth/wechatauth"
	"github.com/wechatauth/wechatauth/internal/redistest"
	"github.com/wechatauth/wechatauth/internal/sitetest"
	"github.com/wechatauth/wechatauth/redisstore"
	"github.com/wechatauth/wechatauth/wechattest"
)

func TestPingChecksTheConnection(t *testing.T) {
	srv, store := newStore(t)
	ctx := context.Background()
	if err := store.Ping(ctx); err != nil {
		t.Fatalf("Ping with Redis up: %v", err)
	}
	srv.Kill()
	err := store.Ping(ctx)
	if err == nil {
		t.Fatal("Ping with Redis down: got no error")
	}
	for _, want := range []string{"redisstore: Redis does not answer PING", srv.Addr(), "check that Redis is running at the address the pool dials"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Ping: %q lacks %q", err, want)
		}
	}
	srv.Restart()
	if err := store.Ping(ctx); err != nil {
		t.Errorf("Ping after Restart: %v", err)
	}
}

func TestPingKeepsThePasswordOut(t *testing.T) {
	for _, rawURL := range []string{
		"redis://user:hunter2secret@127.0.0.1:1/0", // nobody listens there
		"redis:hunter2secret@127.0.0.1:1",          // opaque: redigo quotes it whole
		"redis://user:hunter2secret x@127.0.0.1:1", // malformed: url.Parse quotes it whole
	} {
		pool := &redis.Pool{DialContext: func(ctx context.Context) (redis.Conn, error) {
			return redis.DialURLContext(ctx, rawURL, redis.DialConnectTimeout(time.Second))
		}}
		err := redisstore.New(pool).Ping(context.Background())
		if err == nil || strings.Contains(err.Error(), "hunter2secret") {
			t.Errorf("Ping through %s: got %v, want an error without the password", rawURL[:8], err)
		}
		pool.Close()
	}
}

// New contacts nobody: a Store on a Redis that is down is made without a
// word, and its first call fails.
func TestNewNeverContactsRedis(t *testing.T) {
	var dials int
	var mu sync.Mutex
	pool := &redis.Pool{DialContext: func(ctx context.Context) (redis.Conn, error) {
		mu.Lock()
		dials++
		mu.Unlock()
		return redis.DialContext(ctx, "tcp", "127.0.0.1:1")
	}}
	defer pool.Close()
	store := redisstore.New(pool)
	if dials != 0 {
		t.Fatalf("New dialled Redis %d times, want 0", dials)
	}
	if err := store.Ping(context.Background()); err == nil || dials != 1 {
		t.Errorf("Ping: got %v after %d dials, want an error after 1", err, dials)
	}
}

// The 503 of a callback while Redis is down says, in the log, which store
// failed and what to check.
func TestCallbackWhileRedisIsDownSaysWhatToCheck(t *testing.T) {
	srv := redistest.Start(t)
	wx := wechattest.NewServer()
	defer wx.Close()
	var logs sitetest.Log
	sessions := scs.New()
	store := redisstore.New(srv.Pool())
	app := httptest.NewUnstartedServer(nil)
	auth, err := wechatauth.New(wechatauth.Options{
		AppID: wx.AppID, AppSecret: wx.AppSecret,
		CallbackURL: "http://" + app.Listener.Addr().String() + "/wechat/callback",
		Sessions:    sessions, Users: store, Tokens: store, Callbacks: store,
		HTTPClient: wx.Client(), Endpoints: wx.Endpoints(),
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /wechat/callback", auth.CallbackHandler())
	mux.Handle("/account/", auth.RequireWeChatUser(http.NotFoundHandler()))
	app.Config.Handler = sessions.LoadAndSave(mux)
	app.Start()
	defer app.Close()

	browser := sitetest.NewBrowser(wx.Client().Transport, false)
	get := func(url string) *http.Response {
		t.Helper()
		resp, _, err := sitetest.Fetch(browser, "GET", url, nil)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	toWeChat := get(app.URL + "/account/").Header.Get("Location")
	callback := get(toWeChat).Header.Get("Location")
	srv.Kill()
	if resp := get(callback); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("callback with Redis down: status %d, want 503", resp.StatusCode)
	}
	got := logs.String()
	for _, want := range []string{`level=ERROR msg="wechatauth: callback store unavailable"`, "Options.Callbacks", "check that it is running and that this instance reaches it", "redisstore.Store).Ping"} {
		if !strings.Contains(got, want) {
			t.Errorf("log lacks %q: %s", want, got)
		}
	}
	if strings.Contains(got, "login failed") {
		t.Errorf("the outage was logged as a failed login: %s", got)
	}
}
