// Command example is a small web app behind WeChat web authorization.
//
// With no configuration it runs on embedded defaults: in-memory sessions
// and an in-process WeChat emulator, so the whole login can be tried in a
// desktop browser:
//
//	go run ./example
//
// Environment variables switch it to a real Official Account:
//
//	WECHAT_APPID         the account's AppID; unset means the emulator
//	WECHAT_SECRET        the account's AppSecret
//	WECHAT_CALLBACK_URL  the public callback URL, such as https://example.com/wechat/callback
//	WECHAT_SCOPE         snsapi_base or snsapi_userinfo (default snsapi_userinfo)
//	WECHATAUTH_DEBUG     1 turns on the debug login (?_user=<openid>), loopback only
//	ADDR                 where to listen (default 127.0.0.1:8080)
package main

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/wechatauth/wechatauth"
	"github.com/wechatauth/wechatauth/wechattest"
)

func main() {
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

func run() error {
	addr := getenv("ADDR", "127.0.0.1:8080")
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s (set ADDR to choose another address): %w", addr, err)
	}
	site := "http://" + ln.Addr().String()

	sessions := scs.New()
	sessions.Lifetime = 7 * 24 * time.Hour

	opts := wechatauth.Options{
		AppID:       os.Getenv("WECHAT_APPID"),
		AppSecret:   os.Getenv("WECHAT_SECRET"),
		CallbackURL: getenv("WECHAT_CALLBACK_URL", site+"/wechat/callback"),
		Scope:       wechatauth.Scope(getenv("WECHAT_SCOPE", string(wechatauth.ScopeUserInfo))),
		Sessions:    sessions,
		DebugBypass: os.Getenv("WECHATAUTH_DEBUG") == "1",
	}
	if opts.AppID == "" {
		wx := startEmulator()
		defer wx.Close()
		opts.AppID, opts.AppSecret = wx.AppID, wx.AppSecret
		opts.Endpoints = wx.Endpoints()
		slog.Info("no WECHAT_APPID: using the in-process WeChat emulator", "emulator", wx.URL)
	}
	auth, err := wechatauth.New(opts)
	if err != nil {
		return err
	}

	mux := http.NewServeMux()
	mux.Handle("GET /wechat/callback", auth.CallbackHandler())
	mux.Handle("/account/", auth.RequireWeChatUser(http.HandlerFunc(account)))
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		if err := auth.Logout(r); err != nil {
			http.Error(w, "logout failed", http.StatusInternalServerError)
			return
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		u, ok := auth.CurrentUser(r)
		render(w, homePage, map[string]any{"User": u, "LoggedIn": ok, "LoginURL": auth.LoginURL("/account/")})
	})

	srv := &http.Server{Handler: sessions.LoadAndSave(mux), ReadHeaderTimeout: 10 * time.Second}
	fmt.Printf("wechatauth example: open %s/account/ in a browser\n", site)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// startEmulator starts a WeChat emulator that shows its consent page, with
// a few users to pick from.
func startEmulator() *wechattest.Server {
	wx := wechattest.NewServer()
	wx.SetMode(wechattest.ConsentPage)
	wx.AddUser(wechattest.User{OpenID: "oAlice000000000000000000001", UnionID: "uAlice", Nickname: "Alice 爱丽丝"})
	wx.AddUser(wechattest.User{OpenID: "oBob00000000000000000000001", Nickname: "Bob 鲍勃"})
	return wx
}

func account(w http.ResponseWriter, r *http.Request) {
	u, _ := wechatauth.UserFrom(r)
	render(w, accountPage, u)
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
{{else}}<p>You are not logged in.</p><p><a class="button" id="login" href="{{.LoginURL}}">Log in with WeChat</a></p>{{end}}
<p><a href="/account/">/account/</a> requires a WeChat login.</p>`))

var accountPage = template.Must(template.New("account").Parse(`<!doctype html><title>Your account</title>` + style + `
<h1>Your account</h1>
<p>{{if .HeadImgURL}}<img src="{{.HeadImgURL}}" width="64" height="64" alt=""> {{end}}<strong id="nickname">{{or .Nickname "(no nickname: snsapi_base login)"}}</strong></p>
<dl><dt>openid</dt><dd id="openid">{{.OpenID}}</dd>{{if .UnionID}}<dt>unionid</dt><dd id="unionid">{{.UnionID}}</dd>{{end}}</dl>
<form method="post" action="/logout"><button id="logout">Log out</button></form>`))
