package wechatauth_test

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/alexedwards/scs/v2"
	"github.com/wechatauth/wechatauth"
)

func validOptions() wechatauth.Options {
	return wechatauth.Options{
		AppID:       "wx0123456789abcdef",
		AppSecret:   "0123456789abcdef0123456789abcdef",
		CallbackURL: "https://example.com/wechat/callback",
		Sessions:    scs.New(),
	}
}

func TestNewAcceptsMinimalOptions(t *testing.T) {
	if _, err := wechatauth.New(validOptions()); err != nil {
		t.Fatalf("New: %v", err)
	}
}

func TestNewRefusesBadOptions(t *testing.T) {
	strict := scs.New()
	strict.Cookie.SameSite = http.SameSiteStrictMode
	cases := []struct {
		name   string
		change func(*wechatauth.Options)
		want   []string // each must appear in the error
	}{
		{"no AppID", func(o *wechatauth.Options) { o.AppID = "" }, []string{"Options.AppID", "required"}},
		{"AppID with spaces", func(o *wechatauth.Options) { o.AppID = "wx 123" }, []string{"Options.AppID"}},
		{"no AppSecret", func(o *wechatauth.Options) { o.AppSecret = "" }, []string{"Options.AppSecret", "required"}},
		{"no CallbackURL", func(o *wechatauth.Options) { o.CallbackURL = "" }, []string{"Options.CallbackURL", "required"}},
		{"relative CallbackURL", func(o *wechatauth.Options) { o.CallbackURL = "/cb" }, []string{"Options.CallbackURL", "absolute", `"/cb"`}},
		{"ftp CallbackURL", func(o *wechatauth.Options) { o.CallbackURL = "ftp://example.com/cb" }, []string{"Options.CallbackURL", "http(s)"}},
		{"CallbackURL with query", func(o *wechatauth.Options) { o.CallbackURL = "https://example.com/cb?x=1" }, []string{"Options.CallbackURL"}},
		{"CallbackURL at root", func(o *wechatauth.Options) { o.CallbackURL = "https://example.com/" }, []string{"Options.CallbackURL", "path"}},
		{"nil Sessions", func(o *wechatauth.Options) { o.Sessions = nil }, []string{"Options.Sessions", "required"}},
		{"SameSite=Strict", func(o *wechatauth.Options) { o.Sessions = strict }, []string{"Options.Sessions", "SameSite", "Lax"}},
		{"unknown scope", func(o *wechatauth.Options) { o.Scope = "snsapi_login" }, []string{"Options.Scope", "snsapi_login"}},
		{"negative Timeout", func(o *wechatauth.Options) { o.Timeout = -1 }, []string{"Options.Timeout"}},
		{"negative MaxAttempts", func(o *wechatauth.Options) { o.MaxAttempts = -1 }, []string{"Options.MaxAttempts"}},
		{"DebugUser without an openid", func(o *wechatauth.Options) { o.DebugBypass, o.DebugUser.Nickname = true, "Dev" }, []string{"Options.DebugUser", "OpenID"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := validOptions()
			tc.change(&o)
			a, err := wechatauth.New(o)
			if err == nil {
				t.Fatalf("New: got %v, nil; want an error", a)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), o.AppSecret) && o.AppSecret != "" {
				t.Errorf("error holds the app secret: %q", err)
			}
		})
	}
}

func TestNewReportsEveryProblemAtOnce(t *testing.T) {
	_, err := wechatauth.New(wechatauth.Options{})
	if err == nil {
		t.Fatal("New(Options{}): nil error")
	}
	for _, field := range []string{"Options.AppID", "Options.AppSecret", "Options.CallbackURL", "Options.Sessions"} {
		if !strings.Contains(err.Error(), field) {
			t.Errorf("error %q does not name %s", err, field)
		}
	}
}

func TestNewReportsTheCallbackPathWithTheOtherProblems(t *testing.T) {
	o := validOptions()
	o.AppID, o.CallbackURL = "", "https://example.com/"
	_, err := wechatauth.New(o)
	if err == nil || !strings.Contains(err.Error(), "Options.AppID") || !strings.Contains(err.Error(), "its path must name the callback") {
		t.Errorf("got %v, want both the AppID and the callback path reported", err)
	}
}

func TestNewWarnsOfSetupsThatFailInProduction(t *testing.T) {
	cases := []struct {
		name   string
		change func(*wechatauth.Options)
		want   []string // in the log; none means no warning
	}{
		{"https callback, cookie not Secure", func(o *wechatauth.Options) {}, []string{"Sessions.Cookie.Secure = true", "__Host-"}},
		{"http callback", func(o *wechatauth.Options) { o.CallbackURL = "http://127.0.0.1:8080/wechat/callback" }, nil},
		{"https callback, Secure cookie", func(o *wechatauth.Options) { o.Sessions.Cookie.Secure = true }, nil},
		{"shared sessions, stores in memory", func(o *wechatauth.Options) {
			o.Sessions.Cookie.Secure = true
			o.Sessions.Store = sharedStore{}
		}, []string{"Options.Users, Tokens and Callbacks are in this process's memory", "redisstore.New(pool)"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var logs syncBuffer
			o := validOptions()
			o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			tc.change(&o)
			if _, err := wechatauth.New(o); err != nil {
				t.Fatal(err)
			}
			got := logs.String()
			if len(tc.want) == 0 && strings.Contains(got, "WARN") {
				t.Errorf("warned: %s", got)
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("log %q lacks %q", got, w)
				}
			}
		})
	}
}

// sharedStore stands for a session store that other instances share.
type sharedStore struct{ scs.Store }

// DebugUser and DebugBypass are toggled together from the environment:
// with the bypass off, DebugUser is kept, said at debug level, and logs
// nobody in.
func TestDebugUserIsIgnoredWithoutDebugBypass(t *testing.T) {
	h := newHarness(t, func(o *wechatauth.Options) { o.DebugUser = wechatauth.User{OpenID: "oDeveloper", Nickname: "Dev"} })
	if logs := h.logs.String(); !strings.Contains(logs, "level=DEBUG") || !strings.Contains(logs, "Options.DebugUser is set but DebugBypass is off, so it is ignored") {
		t.Errorf("New did not say DebugUser is ignored at debug level: %s", logs)
	}
	if strings.Contains(h.logs.String(), "level=WARN") {
		t.Errorf("New warned: %s", h.logs.String())
	}
	resp, _ := h.step(h.browser(false), "/account/", http.StatusFound)
	if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, h.wx.URL) {
		t.Errorf("a visitor went to %q, want WeChat: no debug login with DebugBypass off", loc)
	}
	// A DebugUser that would be refused with the bypass on is ignored too.
	o := validOptions()
	o.DebugUser = wechatauth.User{Nickname: "Dev"}
	if _, err := wechatauth.New(o); err != nil {
		t.Errorf("New with an ignored DebugUser: %v", err)
	}
}
