package main

import (
	"context"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"

	"github.com/wechatauth/wechatauth"
	"github.com/wechatauth/wechatauth/component"
	"github.com/wechatauth/wechatauth/jssdk"
	"github.com/wechatauth/wechatauth/wechattest"
)

// account is an Official Account the app serves in component mode: an
// authorizer of the platform, whose pages are under Prefix.
type account struct {
	Prefix string // such as "/a/"
	AppID  string // the authorizer appid
}

// accountPrefix is what a prefix of COMPONENT_ACCOUNTS looks like: one
// path segment between slashes.
var accountPrefix = regexp.MustCompile(`^/[A-Za-z0-9_-]+/$`)

// parseAccounts reads COMPONENT_ACCOUNTS: path prefixes and the appids of
// their Official Accounts, such as "/a/=wx0123456789abcdef,/b/=wxfedcba9876543210".
func parseAccounts(s string) ([]account, error) {
	var list []account
	seen := map[string]bool{}
	for _, item := range strings.Split(s, ",") {
		prefix, appID, ok := strings.Cut(strings.TrimSpace(item), "=")
		switch {
		case !ok || !accountPrefix.MatchString(prefix) || appID == "":
			return nil, fmt.Errorf("COMPONENT_ACCOUNTS: %q is not /prefix/=appid (such as /a/=wx0123456789abcdef)", item)
		case prefix == "/wechat/":
			return nil, fmt.Errorf("COMPONENT_ACCOUNTS: the prefix /wechat/ is the app's own (callback, push, JS-SDK script)")
		case seen[prefix] || seen[appID]:
			return nil, fmt.Errorf("COMPONENT_ACCOUNTS: %q appears twice", item)
		}
		seen[prefix], seen[appID] = true, true
		list = append(list, account{Prefix: prefix, AppID: appID})
	}
	return list, nil
}

// componentFromEnv reads the environment variables of component mode,
// listed in main.go, into cfg. site is the app's own origin.
func componentFromEnv(cfg *config, site string) {
	cfg.Component = true
	cfg.ComponentAppID, cfg.ComponentSecret = os.Getenv("COMPONENT_APPID"), os.Getenv("COMPONENT_SECRET")
	cfg.ComponentToken, cfg.ComponentAESKey = os.Getenv("COMPONENT_TOKEN"), os.Getenv("COMPONENT_AES_KEY")
	cfg.CallbackURL = getenv("COMPONENT_CALLBACK_URL", site+"/wechat/callback")
	cfg.Scope = wechatauth.Scope(getenv("WECHAT_SCOPE", string(wechatauth.ScopeUserInfo)))
	if s := os.Getenv("COMPONENT_ACCOUNTS"); s != "" {
		cfg.Accounts, cfg.Invalid = parseAccounts(s)
	}
}

// useComponentEmulator points cfg at the emulator's third-party platform,
// for its first two authorizers, under /a/ and /b/.
func useComponentEmulator(cfg *config, wx *wechattest.Server) {
	cfg.ComponentAppID, cfg.ComponentSecret = wx.ComponentAppID, wx.ComponentSecret
	cfg.ComponentToken, cfg.ComponentAESKey = wx.ComponentToken, wx.ComponentAESKey
	cfg.Endpoints = wx.Endpoints()
	authorizers := wx.Authorizers()
	cfg.Accounts, cfg.Invalid = []account{{"/a/", authorizers[0]}, {"/b/", authorizers[1]}}, nil
}

// authorizeOnEmulator has the emulator do what WeChat does for a
// platform whose 授权事件接收URL is pushURL, once the app answers there: push
// a component_verify_ticket now (and every 10 minutes of its clock after),
// and an "authorized" event for each account, as when its admin
// authorizes the platform; the app's push handler redeems the event's
// code, which gives the platform the account's refresh token.
func authorizeOnEmulator(wx *wechattest.Server, pushURL string, accounts []account) error {
	if _, err := wx.PushVerifyTicket(pushURL); err != nil {
		return fmt.Errorf("pushing a verify ticket to %s: %w", pushURL, err)
	}
	wx.SetComponentPushURL(pushURL)
	for _, a := range accounts {
		if err := wx.PushAuthorization(pushURL, component.InfoAuthorized, a.AppID); err != nil {
			return fmt.Errorf("pushing the authorization of %s to %s: %w", a.AppID, pushURL, err)
		}
	}
	return nil
}

// newComponentApp builds the example app as an Open Platform third-party
// platform for the Official Accounts of cfg.Accounts, each under its
// prefix (here /a/):
//
//	GET  /                  public home page, with the accounts
//	     /a/account/...     requires a WeChat login for account a; shows the user and the account's appid
//	GET  /a/account/jssdk   a JS-SDK page: wx.config with account a's appid and jsapi_ticket
//	GET  /a/wechat/jssdk    that page's wx.config (?url=<page URL>); POST: "invalid signature"
//	POST /a/logout          logs out
//	GET  /wechat/callback   WeChat's callback, for every account
//	POST /wechat/push       the platform's 授权事件接收URL: verify tickets and authorization events
//	GET  /wechat/jssdk.js   the script that asks for wx.config
//
// The returned func releases the app's storage.
func newComponentApp(cfg config) (http.Handler, func() error, error) {
	if cfg.Invalid != nil {
		return nil, nil, cfg.Invalid
	}
	if len(cfg.Accounts) == 0 {
		return nil, nil, fmt.Errorf("COMPONENT_ACCOUNTS: no Official Account to serve; set it to /prefix/=appid pairs, such as /a/=wx0123456789abcdef")
	}
	cb, err := url.Parse(cfg.CallbackURL)
	if err != nil || cb.Host == "" {
		return nil, nil, fmt.Errorf("COMPONENT_CALLBACK_URL: want an absolute URL, got %q", cfg.CallbackURL)
	}
	origin := cb.Scheme + "://" + cb.Host
	st, err := newStorage(cfg)
	if err != nil {
		return nil, nil, err
	}
	fail := func(err error) (http.Handler, func() error, error) {
		st.close()
		return nil, nil, err
	}
	platform, err := newPlatform(cfg, st, origin+"/wechat/push")
	if err != nil {
		return fail(err)
	}
	prefixes := map[string]string{}
	for _, a := range cfg.Accounts {
		prefixes[a.Prefix] = a.AppID
	}
	authorizer := wechatauth.AuthorizerByPath(prefixes)
	logins := &loginCount{n: map[string]int{}}
	auth, err := wechatauth.New(wechatauth.Options{
		Component:   platform,
		Authorizer:  authorizer,
		CallbackURL: cfg.CallbackURL,
		Scope:       cfg.Scope,
		Sessions:    st.sessions,
		Users:       st.users,
		Tokens:      st.tokens,
		Callbacks:   st.callbacks,
		HTTPClient:  cfg.HTTPClient,
		Endpoints:   cfg.Endpoints,
		Logger:      cfg.Logger,
		OnLogin:     logins.add,
		DebugBypass: cfg.Debug,
		DebugUser:   debugUser(cfg.Debug),
	})
	if err != nil {
		return fail(err)
	}
	st.sessions.ErrorFunc = auth.SessionStoreError

	// One JS-SDK handler for every account: the request's path names the
	// account (as it does for the login), whose wx.config carries that
	// account's appid, signed with its own jsapi_ticket.
	signers := &jssdk.Accounts{
		Account: authorizer,
		New: func(appID string) (*jssdk.Signer, error) {
			return jssdk.New(jssdk.Options{
				AppID:   appID,
				Tickets: platform.JSAPITickets(appID),
				Origins: []string{origin}, // the platform's 网页开发域名
				APIs:    []string{"updateAppMessageShareData", "getLocation"},
				Snapshot: func(r *http.Request) bool {
					u, ok := auth.CurrentUser(r)
					return ok && u.Snapshot
				},
				Logger: cfg.Logger,
			})
		},
		Logger: cfg.Logger,
	}
	jweixin := cfg.Endpoints.WithDefaults().JSSDK

	mux := http.NewServeMux()
	mux.Handle("GET /wechat/callback", auth.CallbackHandler())
	mux.Handle("/wechat/push", platform.PushHandler())
	mux.Handle("GET /wechat/jssdk.js", signers.ScriptHandler())
	for _, a := range cfg.Accounts {
		mux.Handle(a.Prefix+"account/", auth.RequireWeChatUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u, _ := wechatauth.UserFrom(r)
			logins.mu.Lock()
			n := logins.n[u.OpenID]
			logins.mu.Unlock()
			render(w, componentAccountPage, map[string]any{"User": u, "Logins": n, "Account": a})
		})))
		mux.Handle("GET "+a.Prefix+"account/jssdk", auth.RequireWeChatUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u, _ := wechatauth.UserFrom(r)
			render(w, componentJSSDKPage, map[string]any{"JWeixin": jweixin, "Snapshot": u.Snapshot, "Account": a})
		})))
		mux.Handle("GET "+a.Prefix+"wechat/jssdk", signers.Handler())
		mux.Handle("POST "+a.Prefix+"wechat/jssdk", signers.Handler())
		mux.HandleFunc("POST "+a.Prefix+"logout", func(w http.ResponseWriter, r *http.Request) {
			if err := auth.Logout(r); err != nil {
				auth.SessionStoreError(w, r, err)
				return
			}
			http.Redirect(w, r, "/", http.StatusSeeOther)
		})
	}
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		render(w, componentHomePage, map[string]any{"Accounts": cfg.Accounts, "Platform": cfg.ComponentAppID})
	})
	return st.sessions.LoadAndSave(mux), st.close, nil
}

// newPlatform returns the third-party platform of cfg, its credentials
// kept where st keeps the app's state: with REDIS_ADDR the verify ticket
// (which WeChat pushes to one instance only), the component_access_token,
// the accounts' refresh tokens and their access tokens and jsapi_tickets
// are in Redis, shared by every instance.
func newPlatform(cfg config, st *storage, pushURL string) (*component.Platform, error) {
	served := map[string]bool{}
	for _, a := range cfg.Accounts {
		served[a.AppID] = true
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	opts := component.Options{
		AppID:          cfg.ComponentAppID,
		AppSecret:      cfg.ComponentSecret,
		Token:          cfg.ComponentToken,
		EncodingAESKey: cfg.ComponentAESKey,
		PushURL:        pushURL,
		HTTPClient:     cfg.HTTPClient,
		APIURL:         cfg.Endpoints.API,
		Logger:         cfg.Logger,
		OnAuthorization: func(ctx context.Context, a component.Authorization) error {
			log.InfoContext(ctx, "authorization event", "info_type", a.InfoType, "authorizer_appid", a.AuthorizerAppID,
				"served", served[a.AuthorizerAppID]) // not served: add it to COMPONENT_ACCOUNTS
			return nil
		},
	}
	if st.redis != nil {
		opts.Tickets = st.redis.ComponentTickets(cfg.ComponentAppID)
		opts.Credentials.Cache = st.redis.CredentialCache(component.AccessTokenCredential, cfg.ComponentAppID)
		opts.Authorizers = st.redis.Authorizers(cfg.ComponentAppID)
		opts.AuthorizerCredentials = st.redis.CredentialCache
	}
	p, err := component.New(opts)
	if err != nil {
		return nil, fmt.Errorf("COMPONENT_APPID, COMPONENT_SECRET, COMPONENT_TOKEN, COMPONENT_AES_KEY: %w", err)
	}
	return p, nil
}

var componentHomePage = template.Must(template.New("component-home").Parse(`<!doctype html><title>wechatauth example (third-party platform)</title>` + style + `
<h1>wechatauth example (third-party platform)</h1>
<p>The platform <code id="platform">{{.Platform}}</code> logs users in for these Official Accounts:</p>
<ul>{{range .Accounts}}
<li><a id="account-{{.AppID}}" href="{{.Prefix}}account/">{{.Prefix}}account/</a> · <code>{{.AppID}}</code> · <a href="{{.Prefix}}account/jssdk">JS-SDK page</a></li>{{end}}
</ul>
<p>Each needs a WeChat login for that account: its users, and their openids, are its own.</p>`))

var componentAccountPage = template.Must(template.New("component-account").Parse(`<!doctype html><title>Your account</title>` + style + `
<h1>Your account</h1>
{{with .User}}<p>{{if .HeadImgURL}}<img src="{{.HeadImgURL}}" width="64" height="64" alt=""> {{end}}<strong id="nickname">{{or .Nickname "(no nickname: snsapi_base login)"}}</strong></p>
<dl><dt>Official Account (appid)</dt><dd id="appid">{{.AppID}}</dd>
<dt>openid (this account's)</dt><dd id="openid">{{.OpenID}}</dd>{{if .UnionID}}<dt>unionid</dt><dd id="unionid">{{.UnionID}}</dd>{{end}}</dl>{{end}}
<p>Logins: <span id="logins">{{.Logins}}</span></p>
<p><a href="{{.Account.Prefix}}account/jssdk">The JS-SDK page</a> · <a href="/">All accounts</a></p>
<form method="post" action="{{.Account.Prefix}}logout"><button id="logout">Log out</button></form>`))

// componentJSSDKPage is the JS-SDK page of one account: jweixin (the
// emulator's stand-in by default), then the package's script, which gets
// wx.config from the account's own endpoint. The page shows the appId it
// was configured with.
var componentJSSDKPage = template.Must(template.New("component-jssdk").Parse(`<!doctype html><title>JS-SDK</title>` + style + `
<h1>JS-SDK of {{.Account.AppID}}</h1>
<p id="jssdk-status">Configuring the JS-SDK…</p>
<p id="jssdk-ready" hidden>JS-SDK ready</p>
<dl><dt>wx.config appId</dt><dd id="config-appid">–</dd><dt>signed URL</dt><dd id="signed-url">–</dd>
<dt>configured</dt><dd id="ready-count">0</dd><dt>location</dt><dd id="location">–</dd></dl>
<script src="{{.JWeixin}}"></script>
<script>
(function () {
  var ready = 0, config = wx.config;
  function show(id, text) { document.getElementById(id).textContent = text; }
  wx.config = function (c) { show("config-appid", c.appId); return config.apply(this, arguments); };
  document.addEventListener("jssdk:ready", function (e) {
    show("ready-count", String(++ready));
    show("signed-url", e.detail.url);
    show("jssdk-status", "JS-SDK ready");
    document.getElementById("jssdk-ready").hidden = false;
    wx.getLocation({ type: "wgs84", success: function (res) { show("location", res.latitude + "," + res.longitude); } });
  });
  document.addEventListener("jssdk:error", function (e) { show("jssdk-status", "JS-SDK error: " + e.detail.errMsg); });
  document.addEventListener("jssdk:unavailable", function (e) { show("jssdk-status", "JS-SDK unavailable: " + e.detail.message); });
})();
</script>
<script src="/wechat/jssdk.js" data-config="{{.Account.Prefix}}wechat/jssdk" data-apis="updateAppMessageShareData,getLocation" data-snapshot="{{.Snapshot}}"></script>
<p><a href="{{.Account.Prefix}}account/">Your account</a></p>`))
