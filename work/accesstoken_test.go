package work_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/gomodule/redigo/redis"
	"github.com/wechatauth/wechatauth/internal/redistest"
	"github.com/wechatauth/wechatauth/mp"
	"github.com/wechatauth/wechatauth/redisstore"
	"github.com/wechatauth/wechatauth/work"
)

// holdTokens makes the fake's gettoken wait, once it is called, until the
// returned release is called; entered is closed when the first call
// arrives.
func holdTokens(f *fake) (entered <-chan struct{}, release func()) {
	in, out := make(chan struct{}), make(chan struct{})
	var once sync.Once
	f.handle("/cgi-bin/gettoken", func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { close(in) })
		<-out
		fmt.Fprintf(w, `{"errcode":0,"errmsg":"ok","access_token":%q,"expires_in":7200}`, f.issue())
	})
	var rel sync.Once
	return in, func() { rel.Do(func() { close(out) }) }
}

// tokensOf asks each of sources n times at once and returns the tokens.
func tokensOf(t *testing.T, n int, sources ...mp.AccessTokenSource) []string {
	t.Helper()
	tokens := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tokens[i], errs[i] = sources[i%len(sources)].Token(context.Background())
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	return tokens
}

func TestAccessTokenSourceOneFetchForConcurrentCallers(t *testing.T) {
	f := newFake(t)
	entered, release := holdTokens(f)
	ts := work.NewAccessTokenSource(f.client(), mp.CredentialOptions{})
	go func() { <-entered; release() }()
	tokens := tokensOf(t, 100, ts)
	for _, tok := range tokens {
		if tok != "ACCESSTOKEN-1" {
			t.Fatalf("a caller got %q, want ACCESSTOKEN-1", tok)
		}
	}
	if got := len(f.calls("/cgi-bin/gettoken")); got != 1 {
		t.Errorf("gettoken calls: got %d, want 1", got)
	}
}

// TestAccessTokenSourceSharedThroughRedis runs two instances of one app
// on one Redis: one fetch between them, under the kind and account of the
// app, while another app of the same corp has a token of its own.
func TestAccessTokenSourceSharedThroughRedis(t *testing.T) {
	srv := redistest.Start(t)
	store := redisstore.New(srv.Pool())
	f := newFake(t)
	entered, release := holdTokens(f)
	instance := func(c *work.Client) mp.AccessTokenSource {
		return work.NewAccessTokenSource(c, mp.CredentialOptions{Cache: store.CredentialCache(work.AccessTokenCredential, c.Account())})
	}
	a, b := instance(f.client()), instance(f.client())
	go func() { <-entered; release() }()
	tokens := tokensOf(t, 50, a, b)
	for _, tok := range tokens {
		if tok != "ACCESSTOKEN-1" {
			t.Fatalf("a caller got %q, want ACCESSTOKEN-1", tok)
		}
	}
	if got := len(f.calls("/cgi-bin/gettoken")); got != 1 {
		t.Errorf("gettoken calls: got %d, want 1", got)
	}
	conn := srv.Pool().Get()
	defer conn.Close()
	key := "wechatauth:wecom_access_token:" + corpID + "/" + agentID
	if v, err := redis.String(conn.Do("GET", key)); err != nil || !strings.HasSuffix(v, " ACCESSTOKEN-1") {
		t.Errorf("Redis %s: got %q, %v; want the token", key, v, err)
	}

	other := f.client()
	other.AgentID, other.Secret = "1000003", "S3cretOfTheOtherApp-0123456789"
	if tok, err := instance(other).Token(context.Background()); err != nil || tok != "ACCESSTOKEN-2" {
		t.Errorf("another app of the corp: got %q, %v; want a token of its own, ACCESSTOKEN-2", tok, err)
	}
	if got := f.calls("/cgi-bin/gettoken"); len(got) != 2 || !strings.Contains(got[1].rawQuery, "corpsecret=S3cretOfTheOtherApp") {
		t.Errorf("gettoken calls: got %+v, want a second one with the other app's secret", got)
	}
}

// TestStaleTokenRetriedOnce checks that each call that takes a token
// source, refused a token as stale, fetches a fresh one and calls once
// more, and no more than once.
func TestStaleTokenRetriedOnce(t *testing.T) {
	for _, call := range calls[1:] {
		for _, stale := range []int{work.CodeInvalidAccessToken, work.CodeAccessTokenExpired} {
			t.Run(fmt.Sprintf("%s/%d", call.name, stale), func(t *testing.T) {
				f := newFake(t)
				f.handle(call.path, func(w http.ResponseWriter, r *http.Request) {
					if r.URL.Query().Get("access_token") == "ACCESSTOKEN-1" {
						fmt.Fprintf(w, `{"errcode":%d,"errmsg":"access_token expired"}`, stale)
						return
					}
					io.WriteString(w, `{"errcode":0,"errmsg":"ok","userid":"zhangsan"}`)
				})
				c := f.client()
				ts := work.NewAccessTokenSource(c, mp.CredentialOptions{})
				err := call.callWith(context.Background(), c, ts)
				if err != nil {
					t.Fatal(err)
				}
				if got, want := len(f.calls(call.path)), 2; got != want {
					t.Errorf("%s calls: got %d, want %d", call.path, got, want)
				}
				if got := len(f.calls("/cgi-bin/gettoken")); got != 2 {
					t.Errorf("gettoken calls: got %d, want 2", got)
				}
			})
		}
		t.Run(call.name+"/always stale", func(t *testing.T) {
			f := newFake(t)
			f.reply(call.path, `{"errcode":42001,"errmsg":"access_token expired"}`)
			c := f.client()
			err := call.callWith(context.Background(), c, work.NewAccessTokenSource(c, mp.CredentialOptions{}))
			var e *work.Error
			if !errors.As(err, &e) || !e.StaleAccessToken() {
				t.Fatalf("got %v, want the stale token's *work.Error", err)
			}
			if got := len(f.calls(call.path)); got != 2 {
				t.Errorf("%s calls: got %d, want 2", call.path, got)
			}
			noSecrets(t, err)
		})
	}
}

// TestAccessTokenSourceBackoffKeepsWeComError checks that a refused
// gettoken is backed off across instances, and that the instance met by
// the back-off still sees WeCom's *work.Error, with its fix.
func TestAccessTokenSourceBackoffKeepsWeComError(t *testing.T) {
	srv := redistest.Start(t)
	store := redisstore.New(srv.Pool())
	f := newFake(t)
	f.reply("/cgi-bin/gettoken", `{"errcode":40001,"errmsg":"invalid credential, hint: [1700000000_1_abc], from ip: 203.0.113.7, more info at https://open.work.weixin.qq.com/devtool/query?e=40001"}`)
	instance := func() mp.AccessTokenSource {
		c := f.client()
		return work.NewAccessTokenSource(c, mp.CredentialOptions{Cache: store.CredentialCache(work.AccessTokenCredential, c.Account())})
	}
	ctx := context.Background()
	_, err := instance().Token(ctx)
	var e *work.Error
	if !errors.As(err, &e) || e.Code != work.CodeInvalidSecret {
		t.Fatalf("first instance: got %v, want *work.Error 40001", err)
	}
	noSecrets(t, err)

	_, err = instance().Token(ctx)
	var be *mp.BackoffError
	if !errors.As(err, &be) || !errors.As(err, &e) || e.Code != work.CodeInvalidSecret || !e.Misconfigured() || e.FromIP() != "203.0.113.7" {
		t.Fatalf("second instance: got %v (%T), want an *mp.BackoffError over *work.Error 40001", err, errors.Unwrap(err))
	}
	if !strings.Contains(err.Error(), "fix: Client.Secret") {
		t.Errorf("second instance: %q does not say the fix", err)
	}
	noSecrets(t, err)
	if got := len(f.calls("/cgi-bin/gettoken")); got != 1 {
		t.Errorf("gettoken calls: got %d, want 1", got)
	}
}
