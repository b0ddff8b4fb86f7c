package redisstore_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// A code refused by one instance logs nobody in on the other: the refusal
// is kept in Redis, by a hash, for no longer than WeChat honours a code,
// and costs no call to WeChat.
func TestRefusedCodeIsRefusedOnEveryInstance(t *testing.T) {
	c := newCluster(t, clusterConfig{})

	// The victim opens an attacker's authorize link; its browser lacks the
	// login's cookie, so instance a refuses the delivery.
	attacker := c.browser()
	resp, _ := attacker.get("a", "/account/")
	authorize := resp.Header.Get("Location")
	victim := c.browser()
	resp, _ = victim.get("a", authorize)
	leaked := resp.Header.Get("Location")
	if resp, body := victim.get("a", leaked); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("victim's delivery on a: status %d, body %q; want 400", resp.StatusCode, body)
	}
	lu, _ := url.Parse(leaked)
	code := lu.Query().Get("code")

	// The attacker reads the code from a log and brings it to b with a
	// login of its own.
	fresh := c.browser()
	resp, _ = fresh.get("b", "/account/")
	au, _ := url.Parse(resp.Header.Get("Location"))
	injected := c.url + "/wechat/callback?" + url.Values{"code": {code}, "state": {au.Query().Get("state")}}.Encode()
	if resp, body := fresh.get("b", injected); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("injected code on b: status %d, Location %q, body %q; want 400", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	if resp, body := fresh.get("b", "/account/"); resp.StatusCode != http.StatusFound {
		t.Errorf("after the injection: status %d, body %q; want 302 to WeChat (logged out)", resp.StatusCode, body)
	}
	if got := c.exchanges(); got != 0 {
		t.Errorf("exchanges: got %d, want 0", got)
	}

	// What the refusal keeps: one key, no code in it, gone within a code's life.
	conn, err := c.redis.Pool().GetContext(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	keys, err := conn.Do("KEYS", "*refused:*")
	if err != nil {
		t.Fatal(err)
	}
	ks := keys.([]any)
	if len(ks) != 1 {
		t.Fatalf("refused-code keys: got %d, want 1", len(ks))
	}
	key := string(ks[0].([]byte))
	if strings.Contains(key, code) {
		t.Errorf("key %q holds the code", key)
	}
	ms, err := conn.Do("PTTL", key)
	if err != nil {
		t.Fatal(err)
	}
	if ttl := time.Duration(ms.(int64)) * time.Millisecond; ttl <= 0 || ttl > 10*time.Minute {
		t.Errorf("TTL of %q: %v, want within a code's life (10 minutes)", key, ttl)
	}
}
