package component_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wechatauth/wechatauth/component"
	"github.com/wechatauth/wechatauth/internal/redistest"
	"github.com/wechatauth/wechatauth/internal/sitetest"
	"github.com/wechatauth/wechatauth/mp"
	"github.com/wechatauth/wechatauth/redisstore"
	"github.com/wechatauth/wechatauth/wechattest"
)

const tokenPath = "/cgi-bin/component/api_component_token"

// platform is a Platform for the emulator's third-party platform, its
// push handler served at pushURL, and its log.
type platform struct {
	*component.Platform
	pushURL string
	log     *sitetest.Log
}

func newPlatform(t *testing.T, wx *wechattest.Server, edit func(*component.Options)) platform {
	t.Helper()
	logs := &sitetest.Log{}
	var p *component.Platform
	h := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { p.PushHandler().ServeHTTP(w, r) }))
	t.Cleanup(h.Close)
	opts := component.Options{
		AppID: wx.ComponentAppID, AppSecret: wx.ComponentSecret,
		Token: wx.ComponentToken, EncodingAESKey: wx.ComponentAESKey,
		PushURL: h.URL + "/push", APIURL: wx.URL, HTTPClient: wx.Client(),
		Logger: slog.New(slog.NewTextHandler(logs, nil)),
	}
	if edit != nil {
		edit(&opts)
	}
	var err error
	if p, err = component.New(opts); err != nil {
		t.Fatal(err)
	}
	return platform{Platform: p, pushURL: h.URL + "/push", log: logs}
}

func ticketOf(t *testing.T, p platform) string {
	t.Helper()
	tk, err := p.Ticket(context.Background())
	if err != nil {
		t.Fatalf("Ticket: %v", err)
	}
	return tk.Value
}

func TestPushStoresTicketAndTokenUsesIt(t *testing.T) {
	wx := wechattest.NewServer()
	defer wx.Close()
	p := newPlatform(t, wx, nil)
	ticket, err := wx.PushVerifyTicket(p.pushURL)
	if err != nil {
		t.Fatalf("push: %v", err)
	}
	if got := ticketOf(t, p); got != ticket {
		t.Fatalf("stored ticket %q, want the pushed %q", got, ticket)
	}
	tok, err := p.Token(context.Background())
	if err != nil || tok == "" {
		t.Fatalf("Token: %q, %v", tok, err)
	}
	again, _ := p.Token(context.Background())
	if again != tok || wx.Calls(tokenPath) != 1 {
		t.Errorf("second Token: %q after %d calls, want the cached token after 1", again, wx.Calls(tokenPath))
	}
}

func TestBadPushesAreRefusedAndKeepTheTicket(t *testing.T) {
	wx := wechattest.NewServer()
	defer wx.Close()
	p := newPlatform(t, wx, nil)
	good, err := wx.PushVerifyTicket(p.pushURL)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		fault  wechattest.PushFault
		status string
		reason string
	}{
		{"wrong signature", wechattest.PushBadSignature, "HTTP 403", "msg_signature does not match"},
		{"wrong appid inside", wechattest.PushWrongAppID, "HTTP 403", "another component appid"},
		{"wrong key", wechattest.PushWrongKey, "HTTP 400", "does not decrypt"},
	} {
		_, err := wx.PushVerifyTicketWith(p.pushURL, tc.fault)
		if err == nil || !strings.Contains(err.Error(), tc.status) {
			t.Errorf("%s: push answered %v, want %s", tc.name, err, tc.status)
		}
		if !strings.Contains(p.log.String(), tc.reason) {
			t.Errorf("%s: log %q does not name the reason %q", tc.name, p.log.String(), tc.reason)
		}
		if got := ticketOf(t, p); got != good {
			t.Errorf("%s: the stored ticket changed", tc.name)
		}
	}
	for _, body := range []string{"garbage", "<xml><Encrypt></Encrypt></xml>", "<xml><Encrypt>AAAA</Encrypt></xml>"} {
		resp, err := http.Post(p.pushURL+"?msg_signature=x&timestamp=1&nonce=2", "text/xml", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode/100 != 4 {
			t.Errorf("body %q: HTTP %d, want 4xx", body, resp.StatusCode)
		}
	}
	resp, err := http.Get(p.pushURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: HTTP %d, want 405", resp.StatusCode)
	}
	if got := ticketOf(t, p); got != good {
		t.Error("garbage changed the stored ticket")
	}
	if strings.Contains(p.log.String(), good) {
		t.Error("the log shows the ticket")
	}
}

// pushRaw posts msg to the platform as WeChat would, encrypted with c.
func pushRaw(t *testing.T, p platform, c component.Crypto, msg string) int {
	t.Helper()
	enc, sig, err := c.Encrypt([]byte(msg), "1700000000", "7")
	if err != nil {
		t.Fatal(err)
	}
	body := "<xml><AppId>" + c.AppID + "</AppId><Encrypt><![CDATA[" + enc + "]]></Encrypt></xml>"
	resp, err := http.Post(p.pushURL+"?timestamp=1700000000&nonce=7&encrypt_type=aes&msg_signature="+sig, "text/xml", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func ticketXML(appID string, at int64, ticket string) string {
	return fmt.Sprintf("<xml><AppId>%s</AppId><CreateTime>%d</CreateTime><InfoType>component_verify_ticket</InfoType><ComponentVerifyTicket>%s</ComponentVerifyTicket></xml>", appID, at, ticket)
}

func TestReplayedOlderTicketIsRefused(t *testing.T) {
	wx := wechattest.NewServer()
	defer wx.Close()
	p := newPlatform(t, wx, nil)
	c := p.Crypto()
	if st := pushRaw(t, p, c, ticketXML(c.AppID, 2000, "ticket@@@new")); st != 200 {
		t.Fatalf("push: HTTP %d", st)
	}
	if st := pushRaw(t, p, c, ticketXML(c.AppID, 1000, "ticket@@@old")); st != http.StatusConflict {
		t.Errorf("older push: HTTP %d, want 409", st)
	}
	if got := ticketOf(t, p); got != "ticket@@@new" {
		t.Errorf("stored %q after an older push, want ticket@@@new", got)
	}
	if !strings.Contains(p.log.String(), "pushed before the stored one") {
		t.Errorf("log %q does not name the replay", p.log.String())
	}
	if st := pushRaw(t, p, c, ticketXML(c.AppID, 3000, "ticket@@@newer")); st != 200 || ticketOf(t, p) != "ticket@@@newer" {
		t.Errorf("newer push: HTTP %d, stored %q", st, ticketOf(t, p))
	}
}

func TestAuthorizationEventsReachTheHook(t *testing.T) {
	wx := wechattest.NewServer()
	defer wx.Close()
	var mu sync.Mutex
	var got []component.Authorization
	fail := false
	p := newPlatform(t, wx, func(o *component.Options) {
		o.OnAuthorization = func(_ context.Context, a component.Authorization) error {
			mu.Lock()
			defer mu.Unlock()
			if fail {
				return errors.New("database down")
			}
			got = append(got, a)
			return nil
		}
	})
	if _, err := wx.PushVerifyTicket(p.pushURL); err != nil { // QueryAuth needs the component token
		t.Fatal(err)
	}
	for _, kind := range []string{"authorized", "updateauthorized", "unauthorized"} {
		if err := wx.PushAuthorization(p.pushURL, kind, "wxauthorizer0001"); err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
	}
	mu.Lock()
	if len(got) != 3 || got[0].InfoType != "authorized" || got[2].InfoType != "unauthorized" ||
		got[0].AuthorizerAppID != "wxauthorizer0001" || got[0].AuthorizationCode == "" || got[0].AuthorizationCodeExpiry.IsZero() ||
		got[2].AuthorizationCode != "" {
		t.Errorf("hook got %+v", got)
	}
	fail = true
	mu.Unlock()
	if err := wx.PushAuthorization(p.pushURL, "authorized", "wxauthorizer0002"); err == nil || !strings.Contains(err.Error(), "HTTP 500") {
		t.Errorf("hook failing: push answered %v, want HTTP 500 so that WeChat pushes again", err)
	}
}

func TestNoTicketYetIsNamed(t *testing.T) {
	wx := wechattest.NewServer()
	defer wx.Close()
	p := newPlatform(t, wx, nil)
	_, err := p.Token(context.Background())
	if !errors.Is(err, component.ErrNoTicket) {
		t.Fatalf("Token before any push: %v, want ErrNoTicket", err)
	}
	if !strings.Contains(err.Error(), "every 10 minutes to "+p.pushURL) {
		t.Errorf("error %q does not say where the pushes go", err)
	}
	if n := wx.Calls(tokenPath); n != 0 {
		t.Errorf("%d calls to api_component_token without a ticket", n)
	}
}

func TestStaleAndUnknownTicketsAreNamed(t *testing.T) {
	wx := wechattest.NewServer()
	defer wx.Close()
	p := newPlatform(t, wx, nil)
	ticket, err := wx.PushVerifyTicket(p.pushURL)
	if err != nil {
		t.Fatal(err)
	}
	wx.Advance(13 * time.Hour)
	_, err = p.Token(context.Background())
	var ce *component.Error
	if !errors.As(err, &ce) || ce.Code != component.CodeVerifyTicketExpired || !ce.StaleTicket() {
		t.Fatalf("Token with a 13-hour-old ticket: %v, want *component.Error 61005", err)
	}
	if !strings.Contains(err.Error(), "every 10 minutes") {
		t.Errorf("61005 %q does not say what to check", err)
	}
	for _, secret := range []string{wx.ComponentSecret, ticket} {
		if strings.Contains(err.Error(), secret) || strings.Contains(p.log.String(), secret) {
			t.Errorf("error or log shows %q", secret)
		}
	}

	// A ticket WeChat never pushed.
	store := component.NewMemoryTicketStore()
	store.SaveTicket(context.Background(), component.Ticket{Value: "ticket@@@forged", Time: time.Now()})
	q := newPlatform(t, wx, func(o *component.Options) { o.Tickets = store })
	_, err = q.Token(context.Background())
	if !errors.As(err, &ce) || ce.Code != component.CodeVerifyTicketInvalid {
		t.Fatalf("Token with an unknown ticket: %v, want 61006", err)
	}

	// A wrong secret is named, and not shown.
	r := newPlatform(t, wx, func(o *component.Options) { o.AppSecret = "not-the-secret-1234" })
	if _, err := wx.PushVerifyTicket(r.pushURL); err != nil {
		t.Fatal(err)
	}
	_, err = r.Token(context.Background())
	if !errors.As(err, &ce) || ce.Code != component.CodeInvalidSecret || strings.Contains(err.Error(), "not-the-secret-1234") {
		t.Errorf("wrong secret: %v", err)
	}
}

func TestTwoInstancesShareTicketAndTokenOnRedis(t *testing.T) {
	srv := redistest.Start(t)
	wx := wechattest.NewServer()
	defer wx.Close()
	instance := func() platform {
		store := redisstore.New(srv.Pool())
		return newPlatform(t, wx, func(o *component.Options) {
			o.Tickets = store.ComponentTickets(o.AppID)
			o.Credentials = mp.CredentialOptions{Cache: store.CredentialCache(component.AccessTokenCredential, o.AppID)}
		})
	}
	a, b := instance(), instance()
	ticket, err := wx.PushVerifyTicket(a.pushURL) // WeChat reaches one instance only
	if err != nil {
		t.Fatal(err)
	}
	if got := ticketOf(t, b); got != ticket {
		t.Fatalf("the other instance reads ticket %q, want %q", got, ticket)
	}
	const n = 20
	tokens := make([]string, 2*n)
	var wg sync.WaitGroup
	for i := range 2 * n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			src := a
			if i%2 == 1 {
				src = b
			}
			tok, err := src.Token(context.Background())
			if err != nil {
				t.Error(err)
			}
			tokens[i] = tok
		}()
	}
	wg.Wait()
	for _, tok := range tokens {
		if tok != tokens[0] {
			t.Fatalf("instances hold different tokens")
		}
	}
	if calls := wx.Calls(tokenPath); calls != 1 {
		t.Errorf("%d fetches of the component token for two instances, want 1", calls)
	}
}

// TestNewTicketEndsTheBackoff: after WeChat refused a stale ticket, the
// next push lets the token through at once, without waiting out the
// back-off.
func TestNewTicketEndsTheBackoff(t *testing.T) {
	wx := wechattest.NewServer()
	defer wx.Close()
	p := newPlatform(t, wx, nil)
	if _, err := wx.PushVerifyTicket(p.pushURL); err != nil {
		t.Fatal(err)
	}
	wx.Advance(13 * time.Hour)
	if _, err := p.Token(context.Background()); err == nil {
		t.Fatal("Token with a stale ticket succeeded")
	}
	var be *mp.BackoffError
	if _, err := p.Token(context.Background()); !errors.As(err, &be) {
		t.Fatalf("second Token: %v, want a back-off", err)
	}
	if _, err := wx.PushVerifyTicket(p.pushURL); err != nil {
		t.Fatal(err)
	}
	if tok, err := p.Token(context.Background()); err != nil || tok == "" {
		t.Errorf("Token after a new push: %q, %v; want a token at once", tok, err)
	}
}

// An authorization event is signed with its CreateTime: one replayed more
// than ten minutes after it was made is refused and never reaches the hook.
func TestReplayedAuthorizationEventIsRefused(t *testing.T) {
	wx := wechattest.NewServer()
	defer wx.Close()
	calls := 0
	later := time.Now().Add(11 * time.Minute) // the server reads the push 11 minutes on
	p := newPlatform(t, wx, func(o *component.Options) {
		o.Now = func() time.Time { return later }
		o.OnAuthorization = func(context.Context, component.Authorization) error { calls++; return nil }
	})
	if _, err := wx.PushVerifyTicket(p.pushURL); err != nil { // QueryAuth needs the component token
		t.Fatal(err)
	}
	err := wx.PushAuthorization(p.pushURL, "authorized", "wxauthorizer0001")
	if err == nil || !strings.Contains(err.Error(), "HTTP 409") || calls != 0 {
		t.Errorf("event 11 minutes old: push answered %v, hook called %d times; want HTTP 409 and no call", err, calls)
	}
	later = time.Now()
	if err := wx.PushAuthorization(p.pushURL, "authorized", "wxauthorizer0001"); err != nil || calls != 1 {
		t.Errorf("fresh event: push answered %v, hook called %d times; want success and one call", err, calls)
	}
}

// After a change of the EncodingAESKey, a push still encrypted with the
// old key arrives when the platform keeps it as PreviousEncodingAESKey,
// and is refused as undecryptable when it does not.
func TestPreviousEncodingAESKey(t *testing.T) {
	const newKey = "changedComponentAESKey000000000000000000000"
	wx := wechattest.NewServer()
	defer wx.Close()
	without := newPlatform(t, wx, func(o *component.Options) { o.EncodingAESKey = newKey })
	if _, err := wx.PushVerifyTicket(without.pushURL); err == nil || !strings.Contains(err.Error(), "HTTP 400") {
		t.Fatalf("a push with the old key, no previous key kept: %v, want HTTP 400", err)
	}
	with := newPlatform(t, wx, func(o *component.Options) {
		o.EncodingAESKey, o.PreviousEncodingAESKey = newKey, wx.ComponentAESKey
	})
	ticket, err := wx.PushVerifyTicket(with.pushURL)
	if err != nil {
		t.Fatalf("a push with the previous key: %v", err)
	}
	if got := ticketOf(t, with); got != ticket {
		t.Errorf("stored ticket %q, want the pushed one", got)
	}
	// A key that is neither is still refused.
	if _, err := wx.PushVerifyTicketWith(with.pushURL, wechattest.PushWrongKey); err == nil || !strings.Contains(err.Error(), "HTTP 400") {
		t.Errorf("a push with a third key: %v, want HTTP 400", err)
	}
	if _, err := component.New(component.Options{AppID: "wx1", AppSecret: "s", Token: "t",
		EncodingAESKey: newKey, PreviousEncodingAESKey: "short"}); err == nil || !strings.Contains(err.Error(), "PreviousEncodingAESKey") {
		t.Errorf("New with a malformed previous key: %v", err)
	}
}
