package component_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wechatauth/wechatauth/component"
	"github.com/wechatauth/wechatauth/internal/redistest"
	"github.com/wechatauth/wechatauth/mp"
	"github.com/wechatauth/wechatauth/redisstore"
	"github.com/wechatauth/wechatauth/wechattest"
)

// Hostile pushes against the 授权事件接收URL: what each gets (go test -v
// shows the lines).

// post sends body to the push handler with query q and returns the
// status and the answer.
func post(t *testing.T, p platform, method, q, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, p.pushURL+"?"+q, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// signed returns the query and body of msg encrypted and signed as
// WeChat does, with timestamp and nonce.
func signed(t *testing.T, c component.Crypto, msg, timestamp, nonce string) (query, body string) {
	t.Helper()
	enc, sig, err := c.Encrypt([]byte(msg), timestamp, nonce)
	if err != nil {
		t.Fatal(err)
	}
	q := url.Values{"timestamp": {timestamp}, "nonce": {nonce}, "encrypt_type": {"aes"}, "msg_signature": {sig}}
	return q.Encode(), "<xml><AppId><![CDATA[" + c.AppID + "]]></AppId><Encrypt><![CDATA[" + enc + "]]></Encrypt></xml>"
}

// Pushes from someone without the platform's Token: every one is refused
// before anything is decrypted or stored, and the stored ticket stays.
func TestRedTeamUnsignedPushes(t *testing.T) {
	wx := wechattest.NewServer()
	defer wx.Close()
	p := readyPlatform(t, wx, nil)
	ticket := ticketOf(t, p)
	c := p.Crypto()
	q, body := signed(t, c, ticketXML(c.AppID, time.Now().Unix(), "ticket@@@forged"), "1700000000", "7")
	vals, _ := url.ParseQuery(q)
	sig := vals.Get("msg_signature")
	enc := body[strings.Index(body, "<Encrypt><![CDATA[")+len("<Encrypt><![CDATA[") : strings.Index(body, "]]></Encrypt>")]
	other := c
	other.Token = "guessed"
	_, guessedSig, _ := other.Encrypt([]byte("x"), "1700000000", "7")
	big := strings.Repeat("A", 64<<10)
	for _, tc := range []struct {
		name, method, q, body string
		want                  int
	}{
		{"GET", "GET", q, body, 405},
		{"PUT", "PUT", q, body, 405},
		{"DELETE", "DELETE", q, body, 405},
		{"PATCH", "PATCH", q, body, 405},
		{"OPTIONS", "OPTIONS", q, body, 405},
		{"no signature", "POST", "timestamp=1700000000&nonce=7", body, 403},
		{"empty signature", "POST", "timestamp=1700000000&nonce=7&msg_signature=", body, 403},
		{"plain signature only", "POST", "timestamp=1700000000&nonce=7&signature=" + sig, body, 403},
		{"another Token's signature", "POST", "timestamp=1700000000&nonce=7&msg_signature=" + guessedSig, body, 403},
		{"signature of another timestamp", "POST", "timestamp=1700000001&nonce=7&msg_signature=" + sig, body, 403},
		{"signature of another nonce", "POST", "timestamp=1700000000&nonce=8&msg_signature=" + sig, body, 403},
		{"signature cut", "POST", "timestamp=1700000000&nonce=7&msg_signature=" + sig[:39], body, 403},
		{"signature + 1", "POST", "timestamp=1700000000&nonce=7&msg_signature=" + sig + "0", body, 403},
		{"signature twice, forged first", "POST", "timestamp=1700000000&nonce=7&msg_signature=" + guessedSig + "&msg_signature=" + sig, body, 403},
		{"Encrypt with a byte flipped", "POST", q, strings.Replace(body, enc[:4], "AAAA", 1), 403},
		{"Encrypt with whitespace", "POST", q, strings.Replace(body, enc, enc[:10]+"\n"+enc[10:], 1), 403},
		{"empty body", "POST", q, "", 400},
		{"not XML", "POST", q, "{\"Encrypt\":\"" + enc + "\"}", 400},
		{"no Encrypt", "POST", q, "<xml><AppId>x</AppId></xml>", 400},
		{"empty Encrypt", "POST", q, "<xml><Encrypt></Encrypt></xml>", 400},
		{"Encrypt nested", "POST", q, "<xml><Foo><Encrypt>" + enc + "</Encrypt></Foo></xml>", 400},
		{"entity", "POST", q, "<!DOCTYPE xml [<!ENTITY e \"" + enc + "\">]><xml><Encrypt>&e;</Encrypt></xml>", 400},
		{"billion laughs", "POST", q, "<!DOCTYPE l [<!ENTITY a \"aaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;\">]><xml><Encrypt>&c;</Encrypt></xml>", 400},
		{"external entity", "POST", q, "<!DOCTYPE xml [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><xml><Encrypt>&e;</Encrypt></xml>", 400},
		{"duplicate Encrypt, forged last", "POST", q, "<xml><Encrypt>" + enc + "</Encrypt><Encrypt>" + enc[:len(enc)-4] + "AAAA</Encrypt></xml>", 403},
		{"64 KiB + 1", "POST", q, "<xml><Encrypt>" + big + "</Encrypt></xml>", 413},
		{"4 MiB", "POST", q, strings.Repeat(big, 64), 413},
		{"unclosed", "POST", q, "<xml><Encrypt>" + enc, 400},
		{"UTF-16 declaration", "POST", q, "<?xml version=\"1.0\" encoding=\"UTF-16\"?><xml><Encrypt>" + enc + "</Encrypt></xml>", 400},
		{"NUL bytes", "POST", q, "<xml><Encrypt>\x00" + enc + "</Encrypt></xml>", 400},
	} {
		st, answer := post(t, p, tc.method, tc.q, tc.body)
		t.Logf("%s: %d %q", tc.name, st, strings.TrimSpace(answer))
		if st != tc.want {
			t.Errorf("%s: %d, want %d: %q", tc.name, st, tc.want, answer)
		}
		if got := ticketOf(t, p); got != ticket {
			t.Fatalf("%s replaced the ticket with %q", tc.name, got)
		}
	}
	noSecrets(t, "the log", p.log.String(), ticket, "ticket@@@forged", wx.ComponentAESKey, wx.ComponentToken, wx.ComponentSecret)
}

// A push WeChat signed, as replayed or spoiled by someone who captured
// it: the query's timestamp and nonce are not worth replay protection
// (sorted and joined, their characters can move between them), so an
// authorization event is handled once by its own signed fields, and a
// verify ticket pushed again changes nothing.
func TestRedTeamReplayedSignedPushes(t *testing.T) {
	wx := wechattest.NewServer()
	defer wx.Close()
	var calls atomic.Int32
	p := readyPlatform(t, wx, func(o *component.Options) {
		o.OnAuthorization = func(context.Context, component.Authorization) error { calls.Add(1); return nil }
	})
	c := p.Crypto()
	revoke := unauthorizedXML(c.AppID, authorizerA1, time.Now())
	q, body := signed(t, c, revoke, "1700000000", "12345")
	if st, _ := post(t, p, "POST", q, body); st != 200 || calls.Load() != 1 {
		t.Fatalf("the event: %d, hook called %d times", st, calls.Load())
	}
	// The same signature over another split of timestamp and nonce.
	vals, _ := url.ParseQuery(q)
	sig := vals.Get("msg_signature")
	for _, split := range [][2]string{{"17000000001", "2345"}, {"170000000012345", ""}, {"", "170000000012345"}, {"12345", "1700000000"}} {
		st, _ := post(t, p, "POST", url.Values{"timestamp": {split[0]}, "nonce": {split[1]}, "msg_signature": {sig}}.Encode(), body)
		t.Logf("replay with timestamp %q nonce %q: %d", split[0], split[1], st)
		if st != 200 && st != 403 {
			t.Errorf("replay with timestamp %q nonce %q: %d", split[0], split[1], st)
		}
	}
	// Upper-case msg_signature, other encrypt_type: the same push.
	for _, q2 := range []string{strings.Replace(q, sig, strings.ToUpper(sig), 1), strings.Replace(q, "encrypt_type=aes", "encrypt_type=raw", 1),
		strings.Replace(q, "encrypt_type=aes&", "", 1)} {
		st, _ := post(t, p, "POST", q2, body)
		t.Logf("replay with query %q: %d", q2, st)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("the replays reached the hook: %d calls, want 1", n)
	}
}

// Signed messages with odd content (what a broken or hostile upstream,
// or a bug of WeChat's, might send): none reaches the hook with an appid
// it did not sign, and CreateTime outside ten minutes is refused.
func TestRedTeamOddSignedMessages(t *testing.T) {
	wx := wechattest.NewServer()
	defer wx.Close()
	var got []component.Authorization
	p := readyPlatform(t, wx, func(o *component.Options) {
		o.OnAuthorization = func(_ context.Context, a component.Authorization) error { got = append(got, a); return nil }
	})
	c := p.Crypto()
	now := time.Now().Unix()
	ev := func(body string) string { return "<xml><AppId>" + c.AppID + "</AppId>" + body + "</xml>" }
	for _, tc := range []struct {
		name, msg string
		want      int
	}{
		{"future 1 day", ev(fmt.Sprintf("<CreateTime>%d</CreateTime><InfoType>unauthorized</InfoType><AuthorizerAppid>wxr1</AuthorizerAppid>", now+86400)), 409},
		{"future 11 min", ev(fmt.Sprintf("<CreateTime>%d</CreateTime><InfoType>unauthorized</InfoType><AuthorizerAppid>wxr2</AuthorizerAppid>", now+660)), 409},
		{"past 1 year", ev(fmt.Sprintf("<CreateTime>%d</CreateTime><InfoType>unauthorized</InfoType><AuthorizerAppid>wxr3</AuthorizerAppid>", now-365*86400)), 409},
		{"CreateTime huge", ev("<CreateTime>9223372036854775807</CreateTime><InfoType>unauthorized</InfoType><AuthorizerAppid>wxr4</AuthorizerAppid>"), 409},
		{"CreateTime overflow", ev("<CreateTime>99999999999999999999</CreateTime><InfoType>unauthorized</InfoType><AuthorizerAppid>wxr5</AuthorizerAppid>"), 400},
		{"CreateTime text", ev("<CreateTime>yesterday</CreateTime><InfoType>unauthorized</InfoType><AuthorizerAppid>wxr6</AuthorizerAppid>"), 400},
		{"CreateTime 0", ev("<CreateTime>0</CreateTime><InfoType>unauthorized</InfoType><AuthorizerAppid>wxr7</AuthorizerAppid>"), 200},
		{"CreateTime negative", ev("<CreateTime>-5</CreateTime><InfoType>unauthorized</InfoType><AuthorizerAppid>wxr8</AuthorizerAppid>"), 200},
		{"no CreateTime", ev("<InfoType>unauthorized</InfoType><AuthorizerAppid>wxr9</AuthorizerAppid>"), 200},
		{"another component appid inside", "<xml><AppId>wx00000000000000ff</AppId><InfoType>unauthorized</InfoType><AuthorizerAppid>wxra</AuthorizerAppid></xml>", 403},
		{"no AuthorizerAppid", ev(fmt.Sprintf("<CreateTime>%d</CreateTime><InfoType>unauthorized</InfoType>", now)), 400},
		{"CDATA split", ev(fmt.Sprintf("<CreateTime>%d</CreateTime><InfoType><![CDATA[unauth]]><![CDATA[orized]]></InfoType><AuthorizerAppid><![CDATA[wx]]>rb</AuthorizerAppid>", now)), 200},
		{"duplicate AuthorizerAppid", ev(fmt.Sprintf("<CreateTime>%d</CreateTime><InfoType>unauthorized</InfoType><AuthorizerAppid>wxrc1</AuthorizerAppid><AuthorizerAppid>wxrc2</AuthorizerAppid>", now)), 200},
		{"nested AuthorizerAppid", ev(fmt.Sprintf("<CreateTime>%d</CreateTime><InfoType>unauthorized</InfoType><X><AuthorizerAppid>wxrd</AuthorizerAppid></X>", now)), 400},
		{"entity inside", "<!DOCTYPE xml [<!ENTITY e \"wxre\">]>" + ev(fmt.Sprintf("<CreateTime>%d</CreateTime><InfoType>unauthorized</InfoType><AuthorizerAppid>&e;</AuthorizerAppid>", now)), 400},
		{"unknown InfoType", ev(fmt.Sprintf("<CreateTime>%d</CreateTime><InfoType>notify_third_fasteregister</InfoType><AuthorizerAppid>wxrf</AuthorizerAppid>", now)), 200},
		{"InfoType case", ev(fmt.Sprintf("<CreateTime>%d</CreateTime><InfoType>Unauthorized</InfoType><AuthorizerAppid>wxrg</AuthorizerAppid>", now)), 200},
		{"empty ticket", ev(fmt.Sprintf("<CreateTime>%d</CreateTime><InfoType>component_verify_ticket</InfoType><ComponentVerifyTicket></ComponentVerifyTicket>", now)), 400},
		{"not XML inside", "not xml at all", 400},
		{"empty message", "", 400},
	} {
		q, body := signed(t, c, tc.msg, "1700000000", "7")
		st, answer := post(t, p, "POST", q, body)
		t.Logf("%s: %d %q", tc.name, st, strings.TrimSpace(answer))
		if st != tc.want {
			t.Errorf("%s: %d, want %d: %q", tc.name, st, tc.want, answer)
		}
	}
	for _, a := range got {
		t.Logf("hook: %s %s", a.InfoType, a.AuthorizerAppID)
		if !strings.HasPrefix(a.AuthorizerAppID, "wxr") || a.AuthorizerAppID == "wxra" {
			t.Errorf("the hook got %+v", a)
		}
	}
}

// An authorized event whose code is another account's stores nothing
// under the event's appid and does not reach the hook; the other
// account's refresh token is WeChat's answer, stored under its own appid.
func TestRedTeamAuthorizedWithAnotherAccountsCode(t *testing.T) {
	wx := wechattest.NewServer()
	defer wx.Close()
	calls := 0
	p := readyPlatform(t, wx, func(o *component.Options) {
		o.OnAuthorization = func(context.Context, component.Authorization) error { calls++; return nil }
	})
	c := p.Crypto()
	msg := authorizedXML(c.AppID, authorizerA1, wx.AuthorizationCode(authorizerA2))
	st := pushRaw(t, p, c, msg)
	t.Logf("authorized of a1 with a2's code: %d; log %q", st, p.log.String())
	if st != http.StatusInternalServerError || calls != 0 {
		t.Errorf("authorized of a1 with a2's code: %d, hook called %d times; want 500 and none", st, calls)
	}
	if _, err := p.AuthorizerTokens(authorizerA1).Token(context.Background()); !errors.Is(err, component.ErrNotAuthorized) {
		t.Errorf("a1's token after a2's code: %v, want ErrNotAuthorized", err)
	}
}

// A verify ticket push replayed (the same push, WeChat's duplicate or a
// capture) changes nothing: in particular it does not lift the back-off
// after WeChat refused the ticket, so replays cannot turn each failing
// login into a call to api_component_token.
func TestRedTeamReplayedTicketKeepsTheBackoff(t *testing.T) {
	t.Run("memory", func(t *testing.T) { testReplayedTicketKeepsTheBackoff(t, nil) })
	t.Run("redis", func(t *testing.T) {
		srv := redistest.Start(t)
		store := redisstore.New(srv.Pool())
		testReplayedTicketKeepsTheBackoff(t, func(o *component.Options) {
			o.Tickets = store.ComponentTickets(o.AppID)
			o.Credentials.Cache = store.CredentialCache(component.AccessTokenCredential, o.AppID)
		})
	})
}

func testReplayedTicketKeepsTheBackoff(t *testing.T, edit func(*component.Options)) {
	wx := wechattest.NewServer()
	defer wx.Close()
	p := newPlatform(t, wx, edit)
	c := p.Crypto()
	q, body := signed(t, c, ticketXML(c.AppID, time.Now().Unix(), "ticket@@@never-pushed-by-wechat"), "1700000000", "7")
	if st, _ := post(t, p, "POST", q, body); st != 200 {
		t.Fatalf("push: %d", st)
	}
	ctx := context.Background()
	if _, err := p.Token(ctx); err == nil {
		t.Fatal("a ticket WeChat never pushed gave a token")
	}
	calls := wx.Calls(tokenPath)
	var be *mp.BackoffError
	for i := range 5 {
		st, _ := post(t, p, "POST", q, body) // the replay
		if st != 200 {
			t.Errorf("replay %d: %d, want 200 (acknowledged)", i, st)
		}
		if _, err := p.Token(ctx); !errors.As(err, &be) {
			t.Errorf("Token after replay %d: %v, want the back-off", i, err)
		}
	}
	if got := wx.Calls(tokenPath) - calls; got != 0 {
		t.Errorf("%d api_component_token calls after 5 replays, want 0", got)
	}
	// A new ticket still lifts it.
	if _, err := wx.PushVerifyTicket(p.pushURL); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Token(ctx); err != nil {
		t.Errorf("Token after a new ticket: %v", err)
	}
}
