package wechatauth_test

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wechatauth/wechatauth"
	"github.com/wechatauth/wechatauth/internal/testclock"
	"github.com/wechatauth/wechatauth/wechattest"
)

// An instance that died between claiming a callback and finishing it
// holds the next delivery up for about the exchange's budget, not for
// StateTTL. The claim runs out on the store's clock, which moves past the
// claim's life once the delivery waits on it: a slow machine makes the
// test slower, not fail.
func TestDeadInstancesClaimIsWaitedOut(t *testing.T) {
	callbacks := &expireWhileWaiting{MemoryStore: wechatauth.NewMemoryStore()}
	budget := testclock.Patience(20 * time.Second) // the exchange's: the emulator answers within it however busy the machine
	h := newHarness(t, func(o *wechatauth.Options) { o.Timeout, o.Callbacks = budget, callbacks })
	clk := testclock.New(h.wx, func(now func() time.Time) {
		wechatauth.SetClock(h.auth, now)
		wechatauth.SetStoreClock(callbacks.MemoryStore, now)
	})
	// The claim lives for the exchange's budget and a second to record its
	// end; StateTTL is ten minutes.
	callbacks.expire = func() { clk.Advance(budget + time.Second + time.Millisecond) }
	c := h.browser(false)
	cb := h.callbackURL(c, "/account/")
	if err := wechatauth.LeaveDeadClaim(h.auth, mustURL(t, cb).Query().Get("state")); err != nil {
		t.Fatal(err)
	}
	resp, body := h.get(c, cb)
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != "/account/" {
		t.Fatalf("delivery after a dead claim: status %d, Location %q, body %q; want 302 to /account/", resp.StatusCode, loc, body)
	}
	if !callbacks.waited.Load() {
		t.Error("the delivery never found the dead claim held: nothing was waited out")
	}
	h.assertLoggedIn(c, "oTestUser0000000000000000001")
}

// expireWhileWaiting is a CallbackStore that calls expire, once, when a
// delivery first finds a key claimed and not yet finished, that is when it
// starts to wait on a claim.
type expireWhileWaiting struct {
	*wechatauth.MemoryStore
	expire func()
	once   sync.Once
	waited atomic.Bool
}

func (s *expireWhileWaiting) Record(ctx context.Context, key string) ([]byte, error) {
	b, err := s.MemoryStore.Record(ctx, key)
	if err == nil && len(b) == 0 {
		s.once.Do(func() {
			s.waited.Store(true)
			s.expire()
		})
	}
	return b, err
}

// An attacker starts a login, keeps its cookie and gets the victim to open
// its authorize link (a genuine WeChat link); WeChat sends the victim's
// browser, which lacks the cookie, to the callback with the victim's code
// and the attacker's state. Replaying that URL, read later from a log, with
// the attacker's cookie must not log the attacker in as the victim.
func TestCodeForAnotherBrowsersStateIsSpent(t *testing.T) {
	h := newHarness(t, nil)
	h.wx.AddUser(wechattest.User{OpenID: "oVictim"})
	attacker := h.browser(false)
	resp, _ := h.step(attacker, "/account/", http.StatusFound)
	authorize := resp.Header.Get("Location")

	h.wx.SetVisitor("oVictim")
	victim := h.browser(false)
	resp, _ = h.step(victim, authorize, http.StatusFound)
	leaked := resp.Header.Get("Location")
	if resp, _ := h.get(victim, leaked); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("victim's delivery: status %d, want 400", resp.StatusCode)
	}
	resp, body := h.get(attacker, leaked)
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("attacker's replay: status %d, Location %q, body %q; want 400", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	h.assertLoggedOut(attacker)
	if got := h.exchanges(); got != 0 {
		t.Errorf("exchanges: got %d, want 0: the victim's code is never exchanged", got)
	}
}
