package wechattest_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/wechatauth/wechatauth/component"
	"github.com/wechatauth/wechatauth/wechattest"
)

const pathComponentToken = "/cgi-bin/component/api_component_token"

// componentToken posts body to api_component_token and decodes the
// answer.
func componentToken(t *testing.T, s *wechattest.Server, body map[string]string) (errcode int, token string, contentType string) {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := s.Client().Post(s.URL+pathComponentToken, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		ErrCode int    `json:"errcode"`
		Token   string `json:"component_access_token"`
		Expires int    `json:"expires_in"`
	}
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("answer %q: %v", raw, err)
	}
	if r.Token != "" && r.Expires != 7200 {
		t.Errorf("expires_in %d, want 7200", r.Expires)
	}
	return r.ErrCode, r.Token, resp.Header.Get("Content-Type")
}

// pushReceiver is a platform's push URL that decrypts with the
// emulator's settings and sends each ticket on a channel.
func pushReceiver(t *testing.T, s *wechattest.Server) (string, <-chan string) {
	got := make(chan string, 16)
	c := component.Crypto{Token: s.ComponentToken, EncodingAESKey: s.ComponentAESKey, AppID: s.ComponentAppID}
	h := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var env struct{ Encrypt string }
		body, _ := io.ReadAll(r.Body)
		q := r.URL.Query()
		if xml.Unmarshal(body, &env) != nil || q.Get("encrypt_type") != "aes" {
			http.Error(w, "bad", http.StatusBadRequest)
			return
		}
		msg, err := c.Decrypt(q.Get("msg_signature"), q.Get("timestamp"), q.Get("nonce"), env.Encrypt)
		if err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		var m struct{ ComponentVerifyTicket string }
		xml.Unmarshal(msg, &m)
		got <- m.ComponentVerifyTicket
		io.WriteString(w, "success")
	}))
	t.Cleanup(h.Close)
	return h.URL, got
}

func TestComponentTokenErrcodes(t *testing.T) {
	s := wechattest.NewServer()
	defer s.Close()
	url, _ := pushReceiver(t, s)
	ticket, err := s.PushVerifyTicket(url)
	if err != nil {
		t.Fatal(err)
	}
	good := map[string]string{"component_appid": s.ComponentAppID, "component_appsecret": s.ComponentSecret, "component_verify_ticket": ticket}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range good {
			m[a] = b
		}
		m[k] = v
		return m
	}
	for _, tc := range []struct {
		body map[string]string
		want int
	}{
		{with("component_appid", ""), 41018},
		{with("component_appid", "wx0000000000000001"), 61011},
		{with("component_appsecret", ""), 41004},
		{with("component_appsecret", "wrong"), 40125},
		{with("component_verify_ticket", "ticket@@@never"), 61006},
	} {
		if code, _, _ := componentToken(t, s, tc.body); code != tc.want {
			t.Errorf("%v: errcode %d, want %d", tc.body, code, tc.want)
		}
	}
	code, tok, ct := componentToken(t, s, good)
	if code != 0 || tok == "" || ct != "application/json; encoding=utf-8" {
		t.Errorf("good request: errcode %d, token %q, Content-Type %q", code, tok, ct)
	}
	s.Advance(12 * time.Hour)
	if code, _, _ := componentToken(t, s, good); code != 61005 {
		t.Errorf("a 12-hour-old ticket: errcode %d, want 61005", code)
	}
}

func TestComponentPushesOnTheClock(t *testing.T) {
	s := wechattest.NewServer()
	defer s.Close()
	url, got := pushReceiver(t, s)
	s.SetComponentPushURL(url)
	wait := func() string {
		t.Helper()
		select {
		case tk := <-got:
			return tk
		case <-time.After(10 * time.Second):
			t.Fatal("no push arrived")
		}
		return ""
	}
	first := wait()
	s.Advance(10 * time.Minute)
	second := wait()
	if first == "" || second == "" || first == second {
		t.Errorf("tickets %q and %q, want two different ones", first, second)
	}
	s.SetComponentPushURL("")
}
