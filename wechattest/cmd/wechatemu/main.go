// Command wechatemu runs the wechattest WeChat emulator on its own, so that
// apps in any language can log in against it without a WeChat account:
//
//	go run github.com/wechatauth/wechatauth/wechattest/cmd/wechatemu -addr 127.0.0.1:9000
//
// Point the app's authorize URL, QR login URL, API base and JS-SDK script
// at the addresses it prints; a Go app gets them all from
// wechattest.EndpointsFor(baseURL). Besides web authorization it serves the
// global access_token (/cgi-bin/token, /cgi-bin/stable_token),
// /cgi-bin/menu/create and /cgi-bin/menu/get, so cmd/wechatmenu can run
// against it, and the JS-SDK: /cgi-bin/ticket/getticket and a stand-in for
// jweixin-1.6.0.js.
//
// It serves WeCom (企业微信) on the same address: the authorize page for
// links whose appid is the CorpID, the Web login (/wwlogin/sso/login) and
// the old QR login (/wwopen/sso/qrConnect), and the API of a self-built
// app (/cgi-bin/gettoken, /cgi-bin/auth/getuserinfo,
// /cgi-bin/user/getuserinfo, /cgi-bin/auth/getuserdetail,
// /cgi-bin/user/get), with a member 张三 (zhangsan), a linked-corp member
// and a non-member to pick from.
//
// It plays an Open Platform third-party platform too: it pushes encrypted
// component_verify_tickets to the platform's push URL and serves
// /cgi-bin/component/api_component_token, with two Official Accounts that
// authorized the platform (their appids and authorizer refresh tokens in
// the banner): web authorization in component mode (authorize links with
// component_appid, /sns/oauth2/component/access_token and refresh_token),
// api_query_auth, api_authorizer_token and each authorizer's own
// jsapi_ticket.
//
// Every request it answers is logged to stdout: its method and path (never
// the query, which holds the secret, codes and tokens) and the errcode it
// gave, or the HTTP status of a page or redirect:
//
//	time=10:04:05.123 msg=request method=GET path=/sns/oauth2/access_token errcode=40029 errmsg="invalid code"
//
// The emulator's clock can be moved forward from outside, so that codes and
// tokens expire and an app's refresh can be tried while it runs:
//
//	curl -X POST 'http://127.0.0.1:9000/_emulator/advance?d=2h'
//
// d is a Go duration (90s, 2h, 720h for 30 days); the answer gives the
// emulator's new time.
//
// Flags:
//
//	-addr             where to listen (default 127.0.0.1:9000)
//	-appid, -secret   the credentials the emulator accepts (default
//	                  wx0000000000000001 and emulator-secret-0000000000000000)
//	-website-appid, -website-secret
//	                  those of its Open Platform website app, for website
//	                  QR login (/connect/qrconnect, snsapi_login)
//	-mode             consent (a page to pick the user, allow or refuse;
//	                  the default), auto (approve at once as the visitor)
//	                  or refuse
//	-users            a JSON file of users: [{"openid":"oAlice","unionid":"uAlice",
//	                  "nickname":"Alice","headimgurl":"","snapshot":false}, …];
//	                  the first is the visitor; they replace the built-in
//	                  test user
//	-callback-domain  accept only redirect_uris on this host (10003 otherwise)
//	-scopes           the scopes the account may ask for (10005 otherwise)
//	-latency          delay every /sns and /cgi-bin API answer
//	-token-quota      /cgi-bin/token fetches a day before 45009 (default 2000)
//	-ticket-quota     /cgi-bin/ticket/getticket answers a day before 45009
//	                  (default -1: no quota, as WeChat publishes no number)
//	-retry-callback   deliver a callback again when the app has not answered
//	                  within this duration, as the WeChat client does
//	-corpid, -agentid, -corpsecret
//	                  WeCom: the corp's CorpID, its app's AgentID and the
//	                  app's secret (default ww0000000000000001, 1000002 and
//	                  emulator-corpsecret-0000000000000)
//	-wecom-trusted-domain
//	                  WeCom: the app's trusted domain, host[:port]; other
//	                  redirect_uris get WeCom's uriconfirm page
//	-wecom-trusted-ips
//	                  WeCom: the app's trusted IPs or CIDR prefixes,
//	                  comma-separated; API calls from elsewhere get 60020
//	-wecom-created-after-20220620
//	                  WeCom: the app was created after 2022-06-20, so
//	                  user/get withholds avatar, gender, mobile, email,
//	                  biz_mail, qr_code and address
//	-component-appid, -component-secret, -component-token, -component-aeskey
//	                  Open Platform third-party platform: its component
//	                  appid, appsecret, message-check Token and 43-character
//	                  EncodingAESKey (defaults in the banner)
//	-component-push-url
//	                  push an encrypted component_verify_ticket to this URL
//	                  (the platform's 授权事件接收URL) at once and every 10
//	                  minutes of the emulator's clock
//
// It is not WeChat and is not affiliated with Tencent.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/wechatauth/wechatauth/internal/wxspec"
	"github.com/wechatauth/wechatauth/wechattest"
	"github.com/wechatauth/wechatauth/work"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "wechatemu:", err)
		}
		os.Exit(2)
	}
}

// userJSON is one user of the -users file.
type userJSON struct {
	OpenID     string `json:"openid"`
	UnionID    string `json:"unionid"`
	Nickname   string `json:"nickname"`
	HeadImgURL string `json:"headimgurl"`
	Snapshot   bool   `json:"snapshot"`
}

// run starts the emulator as args say, prints its endpoints to stdout and
// serves until ctx ends.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("wechatemu", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, `usage: wechatemu [flags]

Runs a WeChat web-authorization emulator (not WeChat) and logs each request
it answers to stdout. POST /_emulator/advance?d=2h on its address moves its
clock forward, so codes and tokens expire.

Flags:`)
		fs.PrintDefaults()
	}
	addr := fs.String("addr", "127.0.0.1:9000", "`host:port` to listen on")
	appID := fs.String("appid", "wx0000000000000001", "the `AppID` the emulator accepts")
	secret := fs.String("secret", "emulator-secret-0000000000000000", "the AppSecret the exchange requires")
	webAppID := fs.String("website-appid", "wx0000000000000002", "the `AppID` of the website app, for QR login")
	webSecret := fs.String("website-secret", "emulator-website-secret-00000000", "the website app's AppSecret")
	quota := fs.Int("token-quota", 2000, "/cgi-bin/token fetches a day before 45009")
	ticketQuota := fs.Int("ticket-quota", -1, "/cgi-bin/ticket/getticket answers a day before 45009; -1 for no quota")
	mode := fs.String("mode", "consent", "authorization page: consent, auto or refuse")
	usersFile := fs.String("users", "", "JSON `file` of users, instead of the built-in one; the first is the visitor")
	domain := fs.String("callback-domain", "", "accept only redirect_uris on this `host` (default any)")
	scopes := fs.String("scopes", "snsapi_base,snsapi_userinfo", "comma-separated `scopes` the account may ask for")
	latency := fs.Duration("latency", 0, "delay every /sns and /cgi-bin API answer by this `duration`")
	retry := fs.Duration("retry-callback", 0, "deliver a callback again when the app has not answered within this `duration`")
	corpID := fs.String("corpid", "ww0000000000000001", "WeCom: the corp's `CorpID`")
	agentID := fs.String("agentid", "1000002", "WeCom: the `AgentID` of the corp's app")
	corpSecret := fs.String("corpsecret", "emulator-corpsecret-0000000000000", "WeCom: the app's secret, which gettoken requires")
	wwDomain := fs.String("wecom-trusted-domain", "", "WeCom: the app's trusted domain, `host[:port]` (default any)")
	wwIPs := fs.String("wecom-trusted-ips", "", "WeCom: the app's trusted `IPs` or CIDR prefixes, comma-separated; others get 60020 (default any)")
	wwNew := fs.Bool("wecom-created-after-20220620", false, "WeCom: the app was created after 2022-06-20: user/get withholds avatar, gender, mobile, email, biz_mail, qr_code, address")
	compAppID := fs.String("component-appid", "wx00000000000000c1", "Open Platform: the third-party platform's component `appid`")
	compSecret := fs.String("component-secret", "emulator-component-secret-000000", "Open Platform: the platform's appsecret, which api_component_token requires")
	compToken := fs.String("component-token", "emulatortoken", "Open Platform: the platform's message-check `Token`")
	compKey := fs.String("component-aeskey", "emulatorComponentAESKey00000000000000000000", "Open Platform: the platform's 43-character `EncodingAESKey`")
	compPush := fs.String("component-push-url", "", "Open Platform: push a component_verify_ticket to this `URL` at once and every 10 minutes")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q; all settings are flags (see -h)", fs.Arg(0))
	}

	modes := map[string]wechattest.Mode{"consent": wechattest.ConsentPage, "auto": wechattest.AutoApprove, "refuse": wechattest.Refuse}
	m, ok := modes[*mode]
	if !ok {
		return fmt.Errorf("-mode: got %q, want consent, auto or refuse", *mode)
	}
	var scopeList []string
	for _, sc := range strings.Split(*scopes, ",") {
		switch sc = strings.TrimSpace(sc); sc {
		case "":
		case "snsapi_base", "snsapi_userinfo":
			scopeList = append(scopeList, sc)
		default:
			return fmt.Errorf("-scopes: got %q, want snsapi_base and/or snsapi_userinfo", sc)
		}
	}
	if strings.ContainsAny(*domain, "/?#@ ") {
		return fmt.Errorf("-callback-domain: got %q, want a host such as www.example.com, without scheme or path", *domain)
	}
	if *appID == "" || *secret == "" {
		return errors.New("-appid and -secret must not be empty")
	}
	if *webAppID == "" || *webSecret == "" {
		return errors.New("-website-appid and -website-secret must not be empty")
	}
	if *webAppID == *appID {
		return fmt.Errorf("-website-appid: got %q, the same as -appid; a website app has an appid of its own", *webAppID)
	}
	if *quota < 0 {
		return fmt.Errorf("-token-quota: got %d, want 0 or more", *quota)
	}
	if *ticketQuota < -1 {
		return fmt.Errorf("-ticket-quota: got %d, want 0 or more, or -1 for no quota", *ticketQuota)
	}
	if *corpID == "" || *agentID == "" || *corpSecret == "" {
		return errors.New("-corpid, -agentid and -corpsecret must not be empty")
	}
	if *corpID == *appID || *corpID == *webAppID {
		return fmt.Errorf("-corpid: got %q, an appid of the Official Account or the website app; the emulator tells WeCom's links by the CorpID", *corpID)
	}
	if strings.ContainsAny(*wwDomain, "/?#@ ") {
		return fmt.Errorf("-wecom-trusted-domain: got %q, want a host such as corp.example.com or corp.example.com:8443, without scheme or path", *wwDomain)
	}
	var trustedIPs []string
	for _, ip := range strings.Split(*wwIPs, ",") {
		if ip = strings.TrimSpace(ip); ip == "" {
			continue
		}
		_, errPrefix := netip.ParsePrefix(ip)
		if _, errAddr := netip.ParseAddr(ip); errPrefix != nil && errAddr != nil {
			return fmt.Errorf("-wecom-trusted-ips: %q is neither an IP address nor a CIDR prefix", ip)
		}
		trustedIPs = append(trustedIPs, ip)
	}
	if *compAppID == "" || *compSecret == "" || *compToken == "" {
		return errors.New("-component-appid, -component-secret and -component-token must not be empty")
	}
	if !validAESKey(*compKey) {
		return fmt.Errorf("-component-aeskey: got %d characters, want 43 of [A-Za-z0-9]", len(*compKey))
	}
	if *compPush != "" && !strings.HasPrefix(*compPush, "http://") && !strings.HasPrefix(*compPush, "https://") {
		return fmt.Errorf("-component-push-url: got %q, want an http:// or https:// URL", *compPush)
	}
	users, err := readUsers(*usersFile)
	if err != nil {
		return err
	}

	wx, err := wechattest.NewUnstartedServer(*addr)
	if err != nil {
		return err
	}
	defer wx.Close()
	wx.AppID, wx.AppSecret = *appID, *secret
	wx.WebsiteAppID, wx.WebsiteAppSecret = *webAppID, *webSecret
	wx.CorpID, wx.AgentID, wx.CorpSecret = *corpID, *agentID, *corpSecret
	wx.ComponentAppID, wx.ComponentSecret, wx.ComponentToken, wx.ComponentAESKey = *compAppID, *compSecret, *compToken, *compKey
	wx.SetWeComTrustedDomain(*wwDomain)
	wx.SetWeComTrustedIPs(trustedIPs...)
	wx.SetWeComCreatedAfter20220620(*wwNew)
	wx.SetTokenQuota(*quota)
	if *ticketQuota >= 0 {
		wx.SetTicketQuota(*ticketQuota)
	}
	if len(users) > 0 {
		list := make([]wechattest.User, len(users))
		for i, u := range users {
			list[i] = wechattest.User{OpenID: u.OpenID, UnionID: u.UnionID, Nickname: u.Nickname, HeadImgURL: u.HeadImgURL, Snapshot: u.Snapshot}
		}
		wx.SetUsers(list...)
	}
	wx.SetMode(m)
	wx.SetScopes(scopeList...)
	wx.SetCallbackDomain(*domain)
	wx.SetLatency(*latency)
	wx.SetCallbackRetry(*retry)
	wx.SetLogger(requestLog(stdout))

	printBanner(stdout, wx, *mode, users, scopeList, *quota, *ticketQuota)
	printWeComBanner(stdout, wx, *wwDomain, trustedIPs, *wwNew)
	printComponentBanner(stdout, wx, *compPush)
	fmt.Fprintln(stdout, "Requests are logged below. Ctrl-C stops it.")
	// Started after the banner, so that it and the request log never
	// write at once; the listener holds early connections until then.
	wx.Start()
	if *compPush != "" {
		wx.SetComponentPushURL(*compPush)
	}

	<-ctx.Done()
	wx.Close() // the last request is logged before the last line
	fmt.Fprintln(stdout, "wechatemu: stopped")
	return nil
}

// printBanner prints what an app needs to use the emulator wx: its
// credentials and endpoints (those of wechattest.EndpointsFor, so that a
// Go app and the banner agree), its users and settings, and its clock.
func printBanner(w io.Writer, wx *wechattest.Server, mode string, users []userJSON, scopes []string, tokenQuota, ticketQuota int) {
	e := wechattest.EndpointsFor(wx.URL)
	if len(users) == 0 {
		users = []userJSON{{OpenID: "oTestUser0000000000000000001", Nickname: "测试用户"}}
	}
	who := make([]string, len(users))
	for i, u := range users {
		who[i] = u.OpenID
		if u.Nickname != "" {
			who[i] += " (" + u.Nickname + ")"
		}
	}
	tickets := "no quota"
	if ticketQuota >= 0 {
		tickets = fmt.Sprint(ticketQuota, " a day")
	}
	fmt.Fprintf(w, `wechatemu: WeChat web-authorization emulator (not WeChat) on %[1]s
  appid      %[2]s
  secret     %[3]s
  authorize  %[4]s
  qrconnect  %[5]s
  api base   %[6]s
             GET /sns/oauth2/access_token, /sns/oauth2/refresh_token, /sns/userinfo, /sns/auth
             GET /cgi-bin/token, POST /cgi-bin/stable_token, POST /cgi-bin/menu/create, GET /cgi-bin/menu/get
  ticket     %[6]s/cgi-bin/ticket/getticket?access_token=ACCESS_TOKEN&type=jsapi
  jssdk      %[7]s
  webappid   %[8]s
  websecret  %[9]s
  users      %[10]s; the first is the visitor
  mode       %[11]s, scopes %[12]s
  quotas     /cgi-bin/token %[13]d a day, getticket %[14]s
  clock      POST %[1]s/_emulator/advance?d=2h moves it forward
  in Go      wechattest.EndpointsFor(%[1]q) gives these as mp.Endpoints
`, wx.URL, wx.AppID, wx.AppSecret, e.Authorize, e.QRConnect, e.API, e.JSSDK, wx.WebsiteAppID, wx.WebsiteAppSecret,
		strings.Join(who, ", "), mode, strings.Join(scopes, ","), tokenQuota, tickets)
}

// printWeComBanner prints what a WeCom app needs: the corp's credentials,
// the WeCom endpoints (those of work.EndpointsAt), the people
// to pick from and the app's switches.
func printWeComBanner(w io.Writer, wx *wechattest.Server, domain string, ips []string, createdAfter bool) {
	e := work.EndpointsAt(wx.URL)
	if domain == "" {
		domain = "any host"
	}
	trusted := "any caller"
	if len(ips) > 0 {
		trusted = strings.Join(ips, ",")
	}
	created := "before 2022-06-20 (user/get gives every field)"
	if createdAfter {
		created = "after 2022-06-20 (user/get withholds the sensitive fields)"
	}
	fmt.Fprintf(w, `WeCom (企业微信) on the same address; -mode applies to its pages too:
  corpid     %[1]s
  agentid    %[2]s
  corpsecret %[3]s
  in WeCom   %[4]s?appid=%[1]s&redirect_uri=…&response_type=code&scope=snsapi_base&state=…&agentid=%[2]s (or snsapi_privateinfo)
  weblogin   %[5]s
  qrlogin    %[6]s
  wecom api  %[7]s
             GET /cgi-bin/gettoken, /cgi-bin/auth/getuserinfo, /cgi-bin/user/getuserinfo, /cgi-bin/user/get; POST /cgi-bin/auth/getuserdetail
  people     zhangsan (张三, member; the visitor), ww0000000000000002/lisi (linked corp), oWeComGuest0000000000000000001 (non-member)
  trusted    domain %[8]s; IPs %[9]s (others get 60020, gettoken exempt)
  app        created %[10]s
  WeCom Go   work.EndpointsAt(%[11]q)
`, wx.CorpID, wx.AgentID, wx.CorpSecret, e.Authorize, e.WebLogin, wx.URL+"/wwopen/sso/qrConnect", e.API, domain, trusted, created, wx.URL)
}

// validAESKey reports whether key is 43 characters of [A-Za-z0-9], as
// the Open Platform generates an EncodingAESKey.
func validAESKey(key string) bool {
	if len(key) != 43 {
		return false
	}
	for _, r := range key {
		if (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}

// printComponentBanner prints what a third-party platform needs: its
// component appid, secret, Token and EncodingAESKey on one line, the
// token endpoint and where the verify tickets go.
func printComponentBanner(w io.Writer, wx *wechattest.Server, pushURL string) {
	push := "none yet: start with -component-push-url http://your-app/push (the 授权事件接收URL)"
	if pushURL != "" {
		push = pushURL + " at once and every 10 minutes of the emulator's clock"
	}
	fmt.Fprintf(w, `Open Platform third-party platform (第三方平台) on the same address:
  component appid %[1]s  secret %[2]s  token %[3]s  aeskey %[4]s
  component api   POST %[5]s/cgi-bin/component/api_component_token (the latest pushed component_verify_ticket; 61005 after 12 h, 61006 for one never pushed)
  ticket push     %[6]s
`, wx.ComponentAppID, wx.ComponentSecret, wx.ComponentToken, wx.ComponentAESKey, wx.URL, push)
	fmt.Fprintf(w, "  authorizers     %s (Official Accounts that authorized the platform: authorize links with &component_appid=%s after state, code exchange at %s/sns/oauth2/component/access_token)\n",
		strings.Join(wx.Authorizers(), " "), wx.ComponentAppID, wx.URL)
	for _, id := range wx.Authorizers() {
		fmt.Fprintf(w, "  authorizer      %s  refresh token %s (api_authorizer_token; its own jsapi_ticket)\n", id, wx.AuthorizerRefreshToken(id))
	}
}

// requestLog is the emulator's request log on w: one line a request, with
// the time of day and without the level.
func requestLog(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			switch {
			case len(groups) > 0:
			case a.Key == slog.LevelKey:
				return slog.Attr{}
			case a.Key == slog.TimeKey:
				return slog.String(slog.TimeKey, a.Value.Time().Format("15:04:05.000"))
			}
			return a
		},
	}))
}

// readUsers reads the -users file; no file means no users beyond the
// emulator's default one.
func readUsers(path string) ([]userJSON, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("-users: %w", err)
	}
	var users []userJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&users); err != nil {
		return nil, fmt.Errorf("-users %s: want a JSON array of {\"openid\", \"unionid\", \"nickname\", \"headimgurl\", \"snapshot\"}: %w", path, err)
	}
	for i, u := range users {
		if !wxspec.Valid(u.OpenID, wxspec.MaxOpenID) {
			return nil, fmt.Errorf("-users %s: user %d: openid %q must be 1 to 64 characters of [A-Za-z0-9_-]", path, i+1, u.OpenID)
		}
	}
	return users, nil
}
