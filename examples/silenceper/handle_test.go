package silenceper_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/silenceper/wechat/v2"
	"github.com/silenceper/wechat/v2/cache"
	"github.com/silenceper/wechat/v2/officialaccount"
	offconfig "github.com/silenceper/wechat/v2/officialaccount/config"
	"github.com/silenceper/wechat/v2/officialaccount/menu"
	"github.com/silenceper/wechat/v2/util"
	"github.com/wechatauth/wechatauth/examples/silenceper"
	"github.com/wechatauth/wechatauth/mp"
	"github.com/wechatauth/wechatauth/wechattest"
)

// errcodes collects the errcodes the emulator answered, from its request
// log.
type errcodes struct {
	mu    sync.Mutex
	codes []int64
}

func (e *errcodes) Enabled(context.Context, slog.Level) bool { return true }
func (e *errcodes) WithAttrs([]slog.Attr) slog.Handler       { return e }
func (e *errcodes) WithGroup(string) slog.Handler            { return e }
func (e *errcodes) Handle(_ context.Context, r slog.Record) error {
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "errcode" {
			e.mu.Lock()
			e.codes = append(e.codes, a.Value.Int64())
			e.mu.Unlock()
		}
		return true
	})
	return nil
}

// count returns how many answers carried code.
func (e *errcodes) count(code int64) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, c := range e.codes {
		if c == code {
			n++
		}
	}
	return n
}

// rig is an emulator, this module's client and token source, and a
// silenceper official account, both pointed at the emulator.
type rig struct {
	wx      *wechattest.Server
	client  *mp.Client
	tokens  mp.AccessTokenSource
	oa      *officialaccount.OfficialAccount
	answers *errcodes
}

func newRig(t *testing.T) *rig {
	wx := wechattest.NewServer()
	t.Cleanup(wx.Close)
	answers := &errcodes{}
	wx.SetLogger(slog.New(answers))

	// silenceper calls https://api.weixin.qq.com; its URI modifier (a
	// package-level setting) sends those calls to the emulator instead.
	util.SetURIModifier(func(uri string) string {
		return strings.Replace(uri, "https://api.weixin.qq.com", wx.URL, 1)
	})
	t.Cleanup(func() { util.SetURIModifier(nil) })

	client := &mp.Client{AppID: wx.AppID, AppSecret: wx.AppSecret, Endpoints: wx.Endpoints(), HTTPClient: wx.Client()}
	oa := wechat.NewWechat().GetOfficialAccount(&offconfig.Config{AppID: wx.AppID, AppSecret: wx.AppSecret, Cache: cache.NewMemory()})
	return &rig{wx: wx, client: client, tokens: mp.NewAccessTokenSource(client, mp.CredentialOptions{}), oa: oa, answers: answers}
}

var shopMenu = mp.Menu{Buttons: []mp.Button{{Type: mp.ButtonView, Name: "商城", URL: "https://shop.example/"}}}

// With the handle, silenceper and this module use one token: one fetch at
// WeChat, and no 40001 however long they run.
func TestOneFetcherServesBoth(t *testing.T) {
	r := newRig(t)
	r.oa.SetAccessTokenHandle(silenceper.Handle{Source: r.tokens})
	ctx := context.Background()

	for round := range 3 {
		if err := r.client.CreateMenu(ctx, r.tokens, shopMenu); err != nil {
			t.Fatalf("round %d: this module's CreateMenu: %v", round, err)
		}
		got, err := r.oa.GetMenu().GetMenu()
		if err != nil {
			t.Fatalf("round %d: silenceper's GetMenu: %v", round, err)
		}
		if len(got.Menu.Button) != 1 || got.Menu.Button[0].Name != "商城" {
			t.Fatalf("round %d: silenceper's GetMenu: got %+v, want the menu just created", round, got.Menu)
		}
		if err := r.oa.GetMenu().SetMenu([]*menu.Button{{Type: "click", Name: "客服", Key: "SERVICE"}}); err != nil {
			t.Fatalf("round %d: silenceper's SetMenu: %v", round, err)
		}
		// Beyond the five minutes a replaced token keeps working: a second
		// fetcher would have retired the first one's token by now.
		r.wx.Advance(10 * time.Minute)
	}
	if got := r.wx.Calls("/cgi-bin/token"); got != 1 {
		t.Errorf("/cgi-bin/token fetches: got %d, want 1", got)
	}
	if got := r.answers.count(40001); got != 0 {
		t.Errorf("answers with 40001: got %d, want 0", got)
	}
}

// Without the handle, silenceper fetches a token of its own, which
// retires this module's five minutes later, and this module's next fetch
// retires silenceper's: the emulator answers 40001, as WeChat does.
func TestTwoFetchersRetireEachOther(t *testing.T) {
	r := newRig(t) // silenceper keeps its default handle
	ctx := context.Background()

	if err := r.client.CreateMenu(ctx, r.tokens, shopMenu); err != nil {
		t.Fatalf("this module's CreateMenu: %v", err)
	}
	if _, err := r.oa.GetMenu().GetMenu(); err != nil {
		t.Fatalf("silenceper's GetMenu: %v", err)
	}
	r.wx.Advance(10 * time.Minute)
	// This module's token was retired by silenceper's fetch: WeChat says
	// 40001, and the source fetches anew (CreateMenu retries once).
	if err := r.client.CreateMenu(ctx, r.tokens, shopMenu); err != nil {
		t.Fatalf("this module's CreateMenu after silenceper's fetch: %v", err)
	}
	r.wx.Advance(10 * time.Minute)
	// That fetch retired silenceper's token in turn; silenceper, which
	// caches its token for its full life, fails.
	_, err := r.oa.GetMenu().GetMenu()
	if err == nil || !strings.Contains(err.Error(), "40001") {
		t.Errorf("silenceper's GetMenu after this module's refetch: got %v, want errcode 40001", err)
	}
	if got := r.wx.Calls("/cgi-bin/token"); got != 3 {
		t.Errorf("/cgi-bin/token fetches: got %d, want 3 (this module, silenceper, this module)", got)
	}
	if got := r.answers.count(40001); got != 2 {
		t.Errorf("answers with 40001: got %d, want 2", got)
	}
}
