package wechatauth_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"testing"

	"github.com/alexedwards/scs/v2"
	"github.com/go-chi/chi/v5"
	"github.com/gorilla/mux"
	"github.com/wechatauth/wechatauth"
	"github.com/wechatauth/wechatauth/wechattest"
)

// The README shows these three wirings; the test runs each through a login.
func TestRouters(t *testing.T) {
	// An existing handler of the app, unaware of WeChat.
	orders := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := wechatauth.UserFrom(r)
		fmt.Fprintf(w, "orders of %s at %s", u.OpenID, r.URL.RequestURI())
	})
	routers := map[string]func(auth *wechatauth.Auth) http.Handler{
		"ServeMux": func(auth *wechatauth.Auth) http.Handler {
			m := http.NewServeMux()
			m.Handle("GET /wechat/callback", auth.CallbackHandler())
			m.Handle("GET /orders/{id}", auth.RequireWeChatUser(orders))
			return m
		},
		"chi": func(auth *wechatauth.Auth) http.Handler {
			r := chi.NewRouter()
			r.Get("/wechat/callback", auth.CallbackHandler().ServeHTTP)
			r.Group(func(r chi.Router) {
				r.Use(auth.RequireWeChatUser)
				r.Get("/orders/{id}", orders)
			})
			return r
		},
		"gorilla/mux": func(auth *wechatauth.Auth) http.Handler {
			r := mux.NewRouter()
			r.Handle("/wechat/callback", auth.CallbackHandler()).Methods("GET")
			protected := r.PathPrefix("/orders").Subrouter()
			protected.Use(auth.RequireWeChatUser)
			protected.Handle("/{id}", orders).Methods("GET")
			return r
		},
	}
	for name, build := range routers {
		t.Run(name, func(t *testing.T) {
			wx := wechattest.NewServer()
			defer wx.Close()
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			site := "http://" + ln.Addr().String()
			sessions := scs.New()
			auth, err := wechatauth.New(wechatauth.Options{
				AppID: wx.AppID, AppSecret: wx.AppSecret, CallbackURL: site + "/wechat/callback",
				Sessions: sessions, Endpoints: wx.Endpoints(),
			})
			if err != nil {
				t.Fatal(err)
			}
			app := &httptest.Server{Listener: ln, Config: &http.Server{Handler: sessions.LoadAndSave(build(auth))}}
			app.Start()
			defer app.Close()

			jar, _ := cookiejar.New(nil)
			browser := &http.Client{Jar: jar}
			for i := 0; i < 2; i++ { // the second visit is already logged in
				resp, err := browser.Get(site + "/orders/42?full=1")
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				body := string(b)
				if want := "orders of oTestUser0000000000000000001 at /orders/42?full=1"; resp.StatusCode != http.StatusOK || body != want {
					t.Errorf("visit %d: status %d, got %q, want %q", i, resp.StatusCode, body, want)
				}
			}
			if got := wx.Calls("/sns/oauth2/access_token"); got != 1 {
				t.Errorf("exchanges: got %d, want 1", got)
			}
		})
	}
}
