package main

import (
	"context"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	scsredis "github.com/alexedwards/scs/redisstore"
	"github.com/alexedwards/scs/v2"
	"github.com/gomodule/redigo/redis"
	"github.com/wechatauth/wechatauth"
	"github.com/wechatauth/wechatauth/jssdk"
	"github.com/wechatauth/wechatauth/mp"
	"github.com/wechatauth/wechatauth/redisstore"
	"github.com/wechatauth/wechatauth/work"
)

// config is what the app runs with. configFromEnv reads it from the
// environment; tests fill it in themselves.
type config struct {
	AppID, AppSecret string
	// CallbackURL is the public URL of /wechat/callback.
	CallbackURL string
	Scope       wechatauth.Scope
	// Debug turns on the debug login (?_user=<openid>), loopback only.
	Debug bool
	// Endpoints are WeChat's, or the emulator's; zero means production.
	Endpoints mp.Endpoints
	// HTTPClient carries the calls to WeChat; nil means wechatauth's default.
	HTTPClient *http.Client
	// Logger receives wechatauth's warnings; nil means slog.Default().
	Logger *slog.Logger
	// RedisAddr, when set, keeps sessions and wechatauth's stores in the
	// Redis at that address (host:port), so that several instances of the
	// app share logins; empty means in memory, one process.
	RedisAddr string

	// WeCom runs the app for the members of a WeCom (企业微信) corp, through
	// its self-built app (wecom.go), instead of the Official Account's
	// users; the fields below are its. CallbackURL is then the public URL
	// of /wecom/callback.
	WeCom                       bool
	CorpID, AgentID, CorpSecret string
	// WeComEndpoints are WeCom's, or the emulator's; zero means production.
	WeComEndpoints work.Endpoints
	// AllowNonMembers lets people who are not members of the corp in, by
	// the openid WeCom gives them.
	AllowNonMembers bool

	// Component runs the app as an Open Platform third-party platform
	// (component.go) for the Official Accounts that authorized it,
	// Accounts, each under its path prefix; the fields below are the
	// platform's. CallbackURL is then the one callback of every account.
	Component                       bool
	ComponentAppID, ComponentSecret string
	ComponentToken, ComponentAESKey string // the message-check Token and EncodingAESKey
	Accounts                        []account
	// Invalid is a malformed environment variable, which newApp reports.
	Invalid error
}

// configFromEnv reads the environment variables listed in main.go. site is
// the app's own origin, the default base of the callback URL.
func configFromEnv(site string) config {
	cfg := config{
		Debug:     os.Getenv("WECHATAUTH_DEBUG") == "1",
		RedisAddr: os.Getenv("REDIS_ADDR"),
	}
	if os.Getenv("COMPONENT") == "1" || os.Getenv("COMPONENT_APPID") != "" {
		componentFromEnv(&cfg, site)
		return cfg
	}
	if os.Getenv("WECOM") == "1" || os.Getenv("WECOM_CORPID") != "" {
		cfg.WeCom = true
		cfg.CorpID, cfg.AgentID, cfg.CorpSecret = os.Getenv("WECOM_CORPID"), os.Getenv("WECOM_AGENTID"), os.Getenv("WECOM_SECRET")
		cfg.CallbackURL = getenv("WECOM_CALLBACK_URL", site+"/wecom/callback")
		cfg.AllowNonMembers = os.Getenv("WECOM_ALLOW_NON_MEMBERS") == "1"
		return cfg
	}
	cfg.AppID, cfg.AppSecret = os.Getenv("WECHAT_APPID"), os.Getenv("WECHAT_SECRET")
	cfg.CallbackURL = getenv("WECHAT_CALLBACK_URL", site+"/wechat/callback")
	cfg.Scope = wechatauth.Scope(getenv("WECHAT_SCOPE", string(wechatauth.ScopeUserInfo)))
	return cfg
}

// storage is where the app keeps its state: the sessions and wechatauth's
// stores.
type storage struct {
	sessions  *scs.SessionManager
	users     wechatauth.UserStore
	tokens    wechatauth.TokenStore
	callbacks wechatauth.CallbackStore
	// accessTokens and tickets cache the account's access_token and
	// jsapi_ticket; corpTokens, corpTickets and agentTickets a WeCom app's
	// corp access_token, the corp's jsapi_ticket and the app's ticket. nil
	// means in memory, one per source.
	accessTokens, tickets                 mp.CredentialCache
	corpTokens, corpTickets, agentTickets mp.CredentialCache
	// redis is the Redis store with REDIS_ADDR, for the credentials of
	// component mode; nil in memory.
	redis *redisstore.Store
	close func() error
}

// newStorage chooses where the app keeps its state: in Redis when
// cfg.RedisAddr is set, for scs's sessions, wechatauth's Users, Tokens
// and Callbacks, and the account's access_token and jsapi_ticket (or the
// WeCom app's corp access_token and its two JS-SDK tickets) alike, and in
// memory otherwise.
func newStorage(cfg config) (*storage, error) {
	sessions := scs.New()
	sessions.Lifetime = 7 * 24 * time.Hour
	if strings.HasPrefix(cfg.CallbackURL, "https:") {
		// An https site keeps its session cookie off plain http, and the
		// __Host- prefix keeps other subdomains from planting one.
		sessions.Cookie.Secure = true
		sessions.Cookie.Name = "__Host-session"
	}
	if cfg.RedisAddr != "" {
		pool := redisPool(cfg.RedisAddr)
		store := redisstore.New(pool) // contacts nobody: Ping does
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := store.Ping(ctx); err != nil {
			pool.Close()
			return nil, fmt.Errorf("REDIS_ADDR=%s is set, but that Redis cannot be used: %w; or unset REDIS_ADDR to keep sessions and stores in memory", cfg.RedisAddr, err)
		}
		sessions.Store = scsredis.New(pool)
		st := &storage{
			sessions: sessions, users: store, tokens: store, callbacks: store,
			accessTokens: store.CredentialCache(mp.AccessTokenCredential, cfg.AppID),
			tickets:      store.CredentialCache(mp.JSAPITicketCredential, cfg.AppID),
			redis:        store,
			close:        pool.Close,
		}
		if cfg.WeCom {
			app := cfg.CorpID + "/" + cfg.AgentID // work.Client.Account()
			st.corpTokens = store.CredentialCache(work.AccessTokenCredential, app)
			st.corpTickets = store.CredentialCache(work.JSAPITicketCredential, cfg.CorpID) // the corp's: per corp
			st.agentTickets = store.CredentialCache(work.AgentTicketCredential, app)       // the app's: per app
		}
		return st, nil
	}
	mem := wechatauth.NewMemoryStore()
	return &storage{
		sessions:  sessions,
		users:     mem,
		tokens:    mem,
		callbacks: mem,
		// One corp access_token for the WeCom login and the JS-SDK's tickets.
		corpTokens: mp.NewMemoryCache(),
		close:      func() error { return nil },
	}, nil
}

// redisPool returns a pool of connections to the Redis at addr, with
// timeouts, that drops connections gone stale while idle.
func redisPool(addr string) *redis.Pool {
	return &redis.Pool{
		MaxIdle:     64,
		IdleTimeout: 4 * time.Minute,
		DialContext: func(ctx context.Context) (redis.Conn, error) {
			return redis.DialContext(ctx, "tcp", addr,
				redis.DialConnectTimeout(2*time.Second),
				redis.DialReadTimeout(2*time.Second),
				redis.DialWriteTimeout(2*time.Second))
		},
		TestOnBorrow: func(c redis.Conn, lastUsed time.Time) error {
			if time.Since(lastUsed) < time.Minute {
				return nil
			}
			_, err := c.Do("PING")
			return err
		},
	}
}

// newApp builds the example app:
//
//	GET  /                 public home page, with a login link
//	     /account/...      requires a WeChat login; shows the user and how often they logged in
//	GET  /profile          asks for the profile (snsapi_userinfo) even when WECHAT_SCOPE is snsapi_base
//	GET  /account/jssdk    a JS-SDK page: wx.config, then the location
//	GET  /wechat/callback  WeChat's callback
//	GET  /wechat/jssdk     the page's wx.config (?url=<page URL>); POST: "invalid signature"
//	GET  /wechat/jssdk.js  the script that asks for it
//	POST /logout           logs out
//
// The returned func releases the app's storage. With cfg.WeCom it is the
// WeCom app of newWeComApp instead, with cfg.Component the third-party
// platform's of newComponentApp.
func newApp(cfg config) (http.Handler, func() error, error) {
	if cfg.WeCom {
		return newWeComApp(cfg)
	}
	if cfg.Component {
		return newComponentApp(cfg)
	}
	st, err := newStorage(cfg)
	if err != nil {
		return nil, nil, err
	}
	logins := &loginCount{n: map[string]int{}}
	auth, err := wechatauth.New(wechatauth.Options{
		AppID:       cfg.AppID,
		AppSecret:   cfg.AppSecret,
		CallbackURL: cfg.CallbackURL,
		Scope:       cfg.Scope,
		Sessions:    st.sessions,
		Users:       st.users,
		Tokens:      st.tokens,
		Callbacks:   st.callbacks,
		HTTPClient:  cfg.HTTPClient,
		Endpoints:   cfg.Endpoints,
		Logger:      cfg.Logger,
		OnLogin:     logins.add, // once a login, however often WeChat delivers the callback
		DebugBypass: cfg.Debug,
		DebugUser:   debugUser(cfg.Debug),
	})
	if err != nil {
		st.close()
		return nil, nil, err
	}
	st.sessions.ErrorFunc = auth.SessionStoreError

	signer, err := newSigner(cfg, st, auth)
	if err != nil {
		st.close()
		return nil, nil, err
	}
	jweixin := cfg.Endpoints.WithDefaults().JSSDK

	mux := http.NewServeMux()
	mux.Handle("GET /wechat/callback", auth.CallbackHandler())
	mux.Handle("/account/", auth.RequireWeChatUser(logins.page(accountPage)))
	mux.Handle("GET /profile", auth.RequireScope(wechatauth.ScopeUserInfo, logins.page(accountPage)))
	mux.Handle("GET /wechat/jssdk", signer.Handler())
	mux.Handle("POST /wechat/jssdk", signer.Handler())
	mux.Handle("GET /wechat/jssdk.js", signer.ScriptHandler())
	mux.Handle("GET /account/jssdk", auth.RequireWeChatUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := wechatauth.UserFrom(r)
		render(w, jssdkPage, map[string]any{"JWeixin": jweixin, "Snapshot": u.Snapshot})
	})))
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		if err := auth.Logout(r); err != nil {
			auth.SessionStoreError(w, r, err)
			return
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		u, ok := auth.CurrentUser(r)
		render(w, homePage, map[string]any{"User": u, "LoggedIn": ok, "LoginURL": auth.LoginURL("/account/")})
	})
	return st.sessions.LoadAndSave(mux), st.close, nil
}

// newSigner signs wx.config for the pages of the callback URL's origin,
// with the account's jsapi_ticket, which needs its access_token: both
// cached where st keeps them.
func newSigner(cfg config, st *storage, auth *wechatauth.Auth) (*jssdk.Signer, error) {
	cb, err := url.Parse(cfg.CallbackURL)
	if err != nil {
		return nil, fmt.Errorf("WECHAT_CALLBACK_URL: %w", err)
	}
	client := &mp.Client{AppID: cfg.AppID, AppSecret: cfg.AppSecret, HTTPClient: cfg.HTTPClient, Endpoints: cfg.Endpoints}
	tokens := mp.NewAccessTokenSource(client, mp.CredentialOptions{Cache: st.accessTokens})
	return jssdk.New(jssdk.Options{
		AppID:   cfg.AppID,
		Tickets: mp.NewTicketSource(client, tokens, mp.CredentialOptions{Cache: st.tickets}),
		Origins: []string{cb.Scheme + "://" + cb.Host},
		APIs:    []string{"updateAppMessageShareData", "getLocation"},
		Snapshot: func(r *http.Request) bool {
			u, ok := auth.CurrentUser(r)
			return ok && u.Snapshot
		},
		Logger: cfg.Logger,
	})
}

// loginCount stands for the application's own accounts, made and updated
// by Options.OnLogin: here, how often each user logged in.
type loginCount struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *loginCount) add(r *http.Request, u wechatauth.User) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n[u.OpenID]++
	return nil // an error would refuse the login
}

// page renders t with the logged-in user and their login count.
func (c *loginCount) page(t *template.Template) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := wechatauth.UserFrom(r)
		c.mu.Lock()
		n := c.n[u.OpenID]
		c.mu.Unlock()
		render(w, t, map[string]any{"User": u, "Logins": n})
	})
}

// debugUser is whom the debug login logs in without ?_user=.
func debugUser(debug bool) wechatauth.User {
	if !debug {
		return wechatauth.User{}
	}
	return wechatauth.User{OpenID: "oDeveloper", Nickname: "开发者 (debug login)"}
}

func render(w http.ResponseWriter, t *template.Template, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := t.Execute(w, data); err != nil {
		slog.Error("rendering a page", "err", err)
	}
}

func getenv(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

const style = `<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;line-height:1.5}
img{border-radius:50%;vertical-align:middle}button,a.button{padding:.5rem 1rem}</style>`

var homePage = template.Must(template.New("home").Parse(`<!doctype html><title>wechatauth example</title>` + style + `
<h1>wechatauth example</h1>
{{if .LoggedIn}}<p id="greeting">Welcome back, {{or .User.Nickname .User.OpenID}}.</p><p><a href="/account/">Your account</a></p>
{{else}}<p id="logged-out">You are not logged in.</p><p><a class="button" id="login" href="{{.LoginURL}}">Log in with WeChat</a></p>{{end}}
<p><a href="/account/">/account/</a> requires a WeChat login.</p>`))

var accountPage = template.Must(template.New("account").Parse(`<!doctype html><title>Your account</title>` + style + `
<h1>Your account</h1>
{{with .User}}<p>{{if .HeadImgURL}}<img src="{{.HeadImgURL}}" width="64" height="64" alt=""> {{end}}<strong id="nickname">{{or .Nickname "(no nickname: snsapi_base login)"}}</strong></p>
<dl><dt>openid</dt><dd id="openid">{{.OpenID}}</dd>{{if .UnionID}}<dt>unionid</dt><dd id="unionid">{{.UnionID}}</dd>{{end}}</dl>{{end}}
<p>Logins: <span id="logins">{{.Logins}}</span> · <a href="/profile">Profile (asks for it)</a></p>
<p><a href="/account/jssdk">The JS-SDK page</a></p>
<form method="post" action="/logout"><button id="logout">Log out</button></form>`))

// jssdkPage loads WeChat's jweixin (the emulator's stand-in by default),
// then the package's script, which makes wx.config; on jssdk:ready it sets
// the share card and shows the location WeChat gives.
var jssdkPage = template.Must(template.New("jssdk").Parse(`<!doctype html><title>JS-SDK</title>` + style + `
<h1>JS-SDK</h1>
<p id="jssdk-status">Configuring the JS-SDK…</p>
<p id="jssdk-ready" hidden>JS-SDK ready</p>
<dl><dt>signed URL</dt><dd id="signed-url">–</dd><dt>configured</dt><dd id="ready-count">0</dd>
<dt>location</dt><dd id="location">–</dd><dt>share card</dt><dd id="share">–</dd></dl>
<p><button id="route" type="button">Change route (history.pushState)</button></p>
<script src="{{.JWeixin}}"></script>
<script>
(function () {
  var ready = 0;
  function show(id, text) { document.getElementById(id).textContent = text; }
  document.addEventListener("jssdk:ready", function (e) {
    show("ready-count", String(++ready));
    show("signed-url", e.detail.url);
    show("jssdk-status", "JS-SDK ready");
    document.getElementById("jssdk-ready").hidden = false;
    wx.getLocation({ type: "wgs84", success: function (res) { show("location", res.latitude + "," + res.longitude); } });
    wx.updateAppMessageShareData({ title: "wechatauth example", desc: "A page inside WeChat", link: location.href.split("#")[0],
      success: function () { show("share", "set"); } });
  });
  document.addEventListener("jssdk:error", function (e) { show("jssdk-status", "JS-SDK error: " + e.detail.errMsg); });
  document.addEventListener("jssdk:unavailable", function (e) { show("jssdk-status", "JS-SDK unavailable: " + e.detail.message); });
  document.getElementById("route").addEventListener("click", function () {
    history.pushState({}, "", "/account/jssdk?tab=orders#top");
  });
})();
</script>
<script src="/wechat/jssdk.js" data-config="/wechat/jssdk" data-apis="updateAppMessageShareData,getLocation" data-snapshot="{{.Snapshot}}"></script>
<p><a href="/account/">Your account</a></p>`))
