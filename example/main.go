// Command example is a small web app behind WeChat web authorization.
//
// With no configuration it runs on embedded defaults: in-memory sessions
// and an in-process WeChat emulator showing its consent page, so the whole
// login can be tried in a desktop browser, and so can the JS-SDK page,
// /account/jssdk, over the emulator's stand-in for WeChat's jweixin:
//
//	go run ./example
//
// Environment variables switch it to a real Official Account:
//
//	WECHAT_APPID         the account's AppID; unset means the emulator
//	WECHAT_SECRET        the account's AppSecret
//	WECHAT_CALLBACK_URL  the public callback URL, such as https://example.com/wechat/callback
//	WECHAT_SCOPE         snsapi_base or snsapi_userinfo (default snsapi_userinfo)
//	WECHATAUTH_DEBUG     1 turns on the debug login: oDeveloper, or ?_user=<openid>; loopback only
//	REDIS_ADDR           host:port of a Redis for sessions and stores, shared by instances (default: in memory)
//	ADDR                 where to listen (default 127.0.0.1:8080)
//
// WeCom (企业微信) mode serves the members of a corp instead, through its
// self-built app (wecom.go), with a JS-SDK page of its own (wx.config and
// wx.agentConfig). One variable runs it on the emulator's corp, whose Web
// login a desktop browser clicks through:
//
//	WECOM=1 go run ./example
//
// and three, with the callback URL, against a real corp:
//
//	WECOM                    1 turns WeCom mode on; on the emulator unless WECOM_CORPID is set
//	WECOM_CORPID             the corp's 企业ID (我的企业 → 企业信息); setting it turns WeCom mode on
//	WECOM_AGENTID            the self-built app's AgentId (应用管理 → the app)
//	WECOM_SECRET             the app's Secret
//	WECOM_CALLBACK_URL       the public callback URL, such as https://example.com/wecom/callback, whose
//	                         host is the app's 可信域名 and Web login domain
//	WECOM_ALLOW_NON_MEMBERS  1 lets people who are not members of the corp in, by their openid
//
// WECHATAUTH_DEBUG (the member "developer", or ?_user=<userid>), REDIS_ADDR
// (sessions, callbacks, the corp access_token and the JS-SDK's two
// tickets) and ADDR work in both modes.
//
// Component mode runs the app as an Open Platform third-party platform
// (第三方平台) for the Official Accounts that authorized it (component.go),
// each under a path prefix, with one callback for all and the platform's
// push handler at /wechat/push. One variable runs it on the emulator's
// platform, for its two accounts, under /a/ and /b/ (open / to pick one):
//
//	COMPONENT=1 go run ./example
//
// and these against a real platform (开发资料 on the Open Platform):
//
//	COMPONENT               1 turns component mode on; on the emulator unless COMPONENT_APPID is set
//	COMPONENT_APPID         the platform's appid (component appid); setting it turns component mode on
//	COMPONENT_SECRET        the platform's appsecret
//	COMPONENT_TOKEN         the message-check Token (消息校验Token)
//	COMPONENT_AES_KEY       the 43-character EncodingAESKey (消息加解密Key)
//	COMPONENT_CALLBACK_URL  the public callback URL, such as https://example.com/wechat/callback, whose
//	                        host is the platform's 公众号开发域名; the 授权事件接收URL is /wechat/push there
//	COMPONENT_ACCOUNTS      the accounts served, by path prefix: /a/=wx…,/b/=wx…
//
// WECHAT_SCOPE, WECHATAUTH_DEBUG, REDIS_ADDR and ADDR work there too; with
// REDIS_ADDR the verify ticket (pushed to one instance), the
// component_access_token and the accounts' refresh tokens, access tokens
// and jsapi_tickets are shared by every instance.
//
// The app itself is in app.go; where it keeps its state, in newStorage.
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

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

	cfg := configFromEnv(site)
	var wx *wechattest.Server
	if cfg.AppID == "" && cfg.CorpID == "" && cfg.ComponentAppID == "" {
		wx, err = startEmulator(cfg.CallbackURL)
		if err != nil {
			return err
		}
		defer wx.Close()
		if cfg.Component {
			useComponentEmulator(&cfg, wx)
			slog.Info("COMPONENT=1 without COMPONENT_APPID: using the in-process emulator's third-party platform", "emulator", wx.URL, "component_appid", cfg.ComponentAppID, "accounts", cfg.Accounts)
		} else if cfg.WeCom {
			cfg.CorpID, cfg.AgentID, cfg.CorpSecret, cfg.WeComEndpoints = wx.CorpID, wx.AgentID, wx.CorpSecret, wx.WeComEndpoints()
			cfg.Endpoints.JSSDK = wx.Endpoints().JSSDK // the JS-SDK page's stand-in for WeCom's scripts
			slog.Info("WECOM=1 without WECOM_CORPID: using the in-process emulator's WeCom corp", "emulator", wx.URL, "corpid", wx.CorpID, "agentid", wx.AgentID)
		} else {
			cfg.AppID, cfg.AppSecret, cfg.Endpoints = wx.AppID, wx.AppSecret, wx.Endpoints()
			slog.Info("no WECHAT_APPID: using the in-process WeChat emulator", "emulator", wx.URL)
		}
	}
	handler, closeApp, err := newApp(cfg) // with REDIS_ADDR, fails unless that Redis answers
	if err != nil {
		return err
	}
	defer closeApp()
	if cfg.RedisAddr != "" {
		slog.Info("sessions and stores in Redis", "redis_addr", cfg.RedisAddr)
	}

	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	page := site + "/account/"
	if cfg.Component {
		page = site + "/"
	}
	fmt.Printf("wechatauth example: open %s in a browser\n", page)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
	}()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	if cfg.Component && wx != nil {
		// What WeChat does once the platform answers: a verify ticket, and
		// the two accounts' authorizations.
		if err := authorizeOnEmulator(wx, site+"/wechat/push", cfg.Accounts); err != nil {
			srv.Close()
			return err
		}
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// startEmulator starts a WeChat emulator that shows its consent pages, with
// a few users to pick from, and accepts only callbackURL's host, as an
// account's web authorization domain and a WeCom app's trusted domain do.
// Its WeCom corp has the emulator's members and a non-member.
func startEmulator(callbackURL string) (*wechattest.Server, error) {
	cb, err := url.Parse(callbackURL)
	if err != nil || cb.Host == "" {
		return nil, fmt.Errorf("WECHAT_CALLBACK_URL, WECOM_CALLBACK_URL or COMPONENT_CALLBACK_URL: want an absolute URL, got %q", callbackURL)
	}
	wx := wechattest.NewServer()
	wx.SetMode(wechattest.ConsentPage)
	wx.SetCallbackDomain(cb.Host)
	wx.SetWeComTrustedDomain(cb.Host)
	wx.AddUser(wechattest.User{OpenID: "oAlice000000000000000000001", UnionID: "uAlice", Nickname: "Alice 爱丽丝"})
	wx.AddUser(wechattest.User{OpenID: "oBob00000000000000000000001", Nickname: "Bob 鲍勃"})
	return wx, nil
}
