package work_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/wechatauth/wechatauth/mp"
	"github.com/wechatauth/wechatauth/work"
)

func TestAuthorizeURL(t *testing.T) {
	const page = "https://open.weixin.qq.com/connect/oauth2/authorize"
	const cb = "https%3A%2F%2Fapp.example.com%3A8443%2Fauth%2Fcallback%3Fnext%3D%2F"
	cases := []struct {
		name, agent, scope, want string
	}{
		{"base", "1000002", work.ScopeBase,
			page + "?appid=wwCorp0123456789ab&redirect_uri=" + cb + "&response_type=code&scope=snsapi_base&state=Abc123&agentid=1000002#wechat_redirect"},
		{"privateinfo", "1000002", work.ScopePrivateInfo,
			page + "?appid=wwCorp0123456789ab&redirect_uri=" + cb + "&response_type=code&scope=snsapi_privateinfo&state=Abc123&agentid=1000002#wechat_redirect"},
		{"snsapi_userinfo is never sent", "1000002", "snsapi_userinfo",
			page + "?appid=wwCorp0123456789ab&redirect_uri=" + cb + "&response_type=code&scope=snsapi_base&state=Abc123&agentid=1000002#wechat_redirect"},
		{"empty scope", "1000002", "",
			page + "?appid=wwCorp0123456789ab&redirect_uri=" + cb + "&response_type=code&scope=snsapi_base&state=Abc123&agentid=1000002#wechat_redirect"},
		{"no agentid", "", work.ScopeBase,
			page + "?appid=wwCorp0123456789ab&redirect_uri=" + cb + "&response_type=code&scope=snsapi_base&state=Abc123#wechat_redirect"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := &work.Client{CorpID: corpID, AgentID: tc.agent, Secret: secret}
			got := c.AuthorizeURL("https://app.example.com:8443/auth/callback?next=/", tc.scope, "Abc123")
			if got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestWebLoginURL(t *testing.T) {
	c := &work.Client{CorpID: corpID, AgentID: agentID, Secret: secret}
	const want = "https://login.work.weixin.qq.com/wwlogin/sso/login?login_type=CorpApp&appid=wwCorp0123456789ab&agentid=1000002&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb&state=Abc123"
	if got := c.WebLoginURL("https://app.example.com/cb", "Abc123", ""); got != want {
		t.Errorf("no lang:\ngot  %s\nwant %s", got, want)
	}
	if got := c.WebLoginURL("https://app.example.com/cb", "Abc123", "en"); got != want+"&lang=en" {
		t.Errorf("lang en:\ngot  %s\nwant %s", got, want+"&lang=en")
	}
}

func TestEndpoints(t *testing.T) {
	want := work.Endpoints{
		API:       "https://qyapi.weixin.qq.com",
		Authorize: "https://open.weixin.qq.com/connect/oauth2/authorize",
		WebLogin:  "https://login.work.weixin.qq.com/wwlogin/sso/login",
	}
	if got := (work.Endpoints{}).WithDefaults(); got != want {
		t.Errorf("zero value: got %+v, want %+v", got, want)
	}
	want = work.Endpoints{
		API:       "http://127.0.0.1:8080",
		Authorize: "http://127.0.0.1:8080/connect/oauth2/authorize",
		WebLogin:  "http://127.0.0.1:8080/wwlogin/sso/login",
	}
	if got := work.EndpointsAt("http://127.0.0.1:8080/"); got != want {
		t.Errorf("EndpointsAt: got %+v, want %+v", got, want)
	}
	if got := (work.Endpoints{API: "http://127.0.0.1:8080/"}).WithDefaults().API; got != want.API {
		t.Errorf("API with a trailing slash: got %q, want %q", got, want.API)
	}
}

func TestAccessToken(t *testing.T) {
	f := newFake(t)
	c := f.client()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	work.SetClock(c, func() time.Time { return now })
	cred, err := c.AccessToken(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := (mp.Credential{Value: "ACCESSTOKEN-1", Expiry: now.Add(7200 * time.Second)}); cred != want {
		t.Errorf("got %+v, want %+v", cred, want)
	}
	req := f.calls("/cgi-bin/gettoken")[0]
	if want := "corpid=" + corpID + "&corpsecret=" + secret; req.method != http.MethodGet || req.rawQuery != want {
		t.Errorf("request: got %s ?%s, want GET ?%s", req.method, req.rawQuery, want)
	}
}

func TestUserInfo(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cases := []struct {
		name, reply string
		want        work.Identity
		linked      [2]string // LinkedCorp's corpID and userID, when ok
	}{
		{"member with a user ticket",
			`{"errcode":0,"errmsg":"ok","userid":"zhangsan","user_ticket":"` + ticket + `"}`,
			work.Identity{UserID: "zhangsan", UserTicket: ticket, UserTicketExpiry: now.Add(1800 * time.Second)}, [2]string{}},
		{"member, ticket with expires_in",
			`{"errcode":0,"errmsg":"ok","userid":"zhangsan","user_ticket":"` + ticket + `","expires_in":600}`,
			work.Identity{UserID: "zhangsan", UserTicket: ticket, UserTicketExpiry: now.Add(600 * time.Second)}, [2]string{}},
		{"member without a ticket",
			`{"errcode":0,"errmsg":"ok","userid":"lisi"}`,
			work.Identity{UserID: "lisi"}, [2]string{}},
		{"non-member",
			`{"errcode":0,"errmsg":"ok","openid":"oStranger01"}`,
			work.Identity{OpenID: "oStranger01"}, [2]string{}},
		{"customer",
			`{"errcode":0,"errmsg":"ok","openid":"oCustomer01","external_userid":"wmExternal01"}`,
			work.Identity{OpenID: "oCustomer01", ExternalUserID: "wmExternal01"}, [2]string{}},
		{"linked corp",
			`{"errcode":0,"errmsg":"ok","userid":"wwLinked99/wangwu"}`,
			work.Identity{UserID: "wwLinked99/wangwu"}, [2]string{"wwLinked99", "wangwu"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			f.reply("/cgi-bin/auth/getuserinfo", tc.reply)
			c := f.client()
			work.SetClock(c, func() time.Time { return now })
			id, err := c.UserInfo(context.Background(), &staticTokens{token: "ACCESSTOKEN-X"}, code)
			if err != nil {
				t.Fatal(err)
			}
			if id != tc.want {
				t.Errorf("got %+v, want %+v", id, tc.want)
			}
			corp, user, ok := id.LinkedCorp()
			if ok != (tc.linked[0] != "") || [2]string{corp, user} != tc.linked {
				t.Errorf("LinkedCorp: got %q, %q, %v; want %q", corp, user, ok, tc.linked)
			}
			req := f.calls("/cgi-bin/auth/getuserinfo")[0]
			if want := "access_token=ACCESSTOKEN-X&code=" + code; req.method != http.MethodGet || req.rawQuery != want {
				t.Errorf("request: got %s ?%s, want GET ?%s", req.method, req.rawQuery, want)
			}
		})
	}
}

// The legacy endpoint's CamelCase keys are not read from the new one: a
// reply in that shape is an error, never an identity with an empty ID.
func TestUserInfoReadsNoCamelCase(t *testing.T) {
	for _, reply := range []string{
		`{"errcode":0,"errmsg":"ok","UserId":"zhangsan","DeviceId":"d1","user_ticket":"T","expires_in":7200}`,
		`{"errcode":0,"errmsg":"ok","OpenId":"oStranger01","DeviceId":"d1"}`,
	} {
		f := newFake(t)
		f.reply("/cgi-bin/auth/getuserinfo", reply)
		id, err := f.client().UserInfo(context.Background(), &staticTokens{token: "ACCESSTOKEN-X"}, code)
		if !errors.Is(err, mp.ErrUpstream) {
			t.Errorf("reply %s: got %+v, %v; want an error wrapping mp.ErrUpstream", reply, id, err)
		}
	}
}

func TestUserDetail(t *testing.T) {
	f := newFake(t)
	f.reply("/cgi-bin/auth/getuserdetail", `{"errcode":0,"errmsg":"ok","userid":"zhangsan","gender":"2",
		"avatar":"http://wework.qpic.cn/a/0","qr_code":"https://open.work.weixin.qq.com/wwopen/userQRCode?vcode=v",
		"mobile":"13800000000","email":"z@example.com","biz_mail":"z@corp.example.com","address":"广州"}`)
	d, err := f.client().UserDetail(context.Background(), &staticTokens{token: "ACCESSTOKEN-X"}, ticket)
	if err != nil {
		t.Fatal(err)
	}
	want := work.Detail{UserID: "zhangsan", Gender: "2", Avatar: "http://wework.qpic.cn/a/0",
		QRCode: "https://open.work.weixin.qq.com/wwopen/userQRCode?vcode=v", Mobile: "13800000000",
		Email: "z@example.com", BizMail: "z@corp.example.com", Address: "广州"}
	if d != want {
		t.Errorf("got %+v, want %+v", d, want)
	}
	req := f.calls("/cgi-bin/auth/getuserdetail")[0]
	if req.method != http.MethodPost || req.rawQuery != "access_token=ACCESSTOKEN-X" {
		t.Errorf("request: got %s ?%s, want POST ?access_token=ACCESSTOKEN-X", req.method, req.rawQuery)
	}
	if want := `{"user_ticket":"` + ticket + `"}`; req.body != want || req.contentType != "application/json; charset=utf-8" {
		t.Errorf("body: got %s (%s), want %s as JSON", req.body, req.contentType, want)
	}

	// WeCom documents gender as a string; a number is read the same.
	f.reply("/cgi-bin/auth/getuserdetail", `{"errcode":0,"errmsg":"ok","userid":"zhangsan","gender":1}`)
	if d, err := f.client().UserDetail(context.Background(), &staticTokens{token: "ACCESSTOKEN-X"}, ticket); err != nil || d.Gender != "1" {
		t.Errorf("numeric gender: got %q, %v; want \"1\"", d.Gender, err)
	}
}

func TestUser(t *testing.T) {
	f := newFake(t)
	f.reply("/cgi-bin/user/get", `{"errcode":0,"errmsg":"ok","userid":"zhang.san","name":"张三","alias":"San",
		"department":[1,2],"order":[0,0],"position":"工程师","main_department":2,"status":1,"open_userid":"woOpen01",
		"mobile":"","gender":"0"}`)
	m, err := f.client().User(context.Background(), &staticTokens{token: "ACCESSTOKEN-X"}, "zhang.san")
	if err != nil {
		t.Fatal(err)
	}
	want := work.Member{UserID: "zhang.san", Name: "张三", Alias: "San", Department: []int64{1, 2},
		MainDepartment: 2, Position: "工程师", Status: 1, OpenUserID: "woOpen01"}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("got %+v, want %+v", m, want)
	}
	req := f.calls("/cgi-bin/user/get")[0]
	if want := "access_token=ACCESSTOKEN-X&userid=zhang.san"; req.method != http.MethodGet || req.rawQuery != want {
		t.Errorf("request: got %s ?%s, want GET ?%s", req.method, req.rawQuery, want)
	}
}

// apiCall is one of the client's API calls.
type apiCall struct {
	name, path string
	creds      string // what the call sends besides the secret, as WeCom might repeat it
	// callWith makes the call; the calls that take no token source ignore ts.
	callWith func(ctx context.Context, c *work.Client, ts mp.AccessTokenSource) error
}

// call makes the call with a token source of one token.
func (a apiCall) call(ctx context.Context, c *work.Client) error {
	return a.callWith(ctx, c, &staticTokens{token: "ACCESSTOKEN-X"})
}

// calls are the four API calls, AccessToken first.
var calls = []apiCall{
	{"AccessToken", "/cgi-bin/gettoken", "corp " + corpID, func(ctx context.Context, c *work.Client, _ mp.AccessTokenSource) error {
		_, err := c.AccessToken(ctx)
		return err
	}},
	{"UserInfo", "/cgi-bin/auth/getuserinfo", "access_token ACCESSTOKEN-X, code " + code, func(ctx context.Context, c *work.Client, ts mp.AccessTokenSource) error {
		_, err := c.UserInfo(ctx, ts, code)
		return err
	}},
	{"UserDetail", "/cgi-bin/auth/getuserdetail", "access_token ACCESSTOKEN-X, ticket " + ticket, func(ctx context.Context, c *work.Client, ts mp.AccessTokenSource) error {
		_, err := c.UserDetail(ctx, ts, ticket)
		return err
	}},
	{"User", "/cgi-bin/user/get", "access_token ACCESSTOKEN-X", func(ctx context.Context, c *work.Client, ts mp.AccessTokenSource) error {
		_, err := c.User(ctx, ts, "zhangsan")
		return err
	}},
}

// TestErrorPaths checks each call's failures: WeCom's errcodes as *Error,
// everything else wrapping mp.ErrUpstream, and no credential in any text,
// even when WeCom's errmsg or the transport's error repeats one.
func TestErrorPaths(t *testing.T) {
	for _, call := range calls {
		t.Run(call.name, func(t *testing.T) {
			t.Run("errcode", func(t *testing.T) {
				f := newFake(t)
				f.reply(call.path, `{"errcode":60020,"errmsg":"not allow to access from your ip, hint: [1700000000_1_abc], from ip: 203.0.113.7, more info at https://open.work.weixin.qq.com/devtool/query?e=60020"}`)
				err := call.call(context.Background(), f.client())
				var e *work.Error
				if !errors.As(err, &e) || e.Code != work.CodeIPNotTrusted || e.Endpoint != call.path || e.FromIP() != "203.0.113.7" {
					t.Fatalf("got %v, want a *work.Error 60020 of %s from 203.0.113.7", err, call.path)
				}
				noSecrets(t, err)
			})
			t.Run("errmsg repeats the credentials", func(t *testing.T) {
				f := newFake(t)
				f.reply(call.path, `{"errcode":40014,"errmsg":"invalid `+call.creds+`, secret `+secret+`"}`)
				err := call.call(context.Background(), f.client())
				var e *work.Error
				if !errors.As(err, &e) {
					t.Fatalf("got %v, want a *work.Error", err)
				}
				noSecrets(t, err)
			})
			t.Run("not JSON", func(t *testing.T) {
				f := newFake(t)
				f.reply(call.path, `<html>502 Bad Gateway</html>`)
				err := call.call(context.Background(), f.client())
				if !errors.Is(err, mp.ErrUpstream) {
					t.Fatalf("got %v, want mp.ErrUpstream", err)
				}
				noSecrets(t, err)
			})
			t.Run("HTTP 500", func(t *testing.T) {
				f := newFake(t)
				f.handle(call.path, func(w http.ResponseWriter, r *http.Request) {
					http.Error(w, `{"errcode":0,"errmsg":"ok"}`, http.StatusInternalServerError)
				})
				err := call.call(context.Background(), f.client())
				if !errors.Is(err, mp.ErrUpstream) {
					t.Fatalf("got %v, want mp.ErrUpstream", err)
				}
				noSecrets(t, err)
			})
			t.Run("context deadline", func(t *testing.T) {
				f := newFake(t)
				f.handle(call.path, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
				defer cancel()
				err := call.call(ctx, f.client())
				if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, mp.ErrUpstream) {
					t.Fatalf("got %v, want context.DeadlineExceeded and mp.ErrUpstream", err)
				}
				noSecrets(t, err)
			})
			t.Run("context cancelled", func(t *testing.T) {
				f := newFake(t)
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				f.handle(call.path, func(w http.ResponseWriter, r *http.Request) { cancel(); <-r.Context().Done() })
				err := call.call(ctx, f.client())
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("got %v, want context.Canceled", err)
				}
				noSecrets(t, err)
			})
			t.Run("unreachable", func(t *testing.T) {
				dead := httptest.NewServer(http.NotFoundHandler())
				dead.Close()
				c := &work.Client{CorpID: corpID, AgentID: agentID, Secret: secret, Endpoints: work.EndpointsAt(dead.URL)}
				err := call.call(context.Background(), c)
				if !errors.Is(err, mp.ErrUpstream) {
					t.Fatalf("got %v, want mp.ErrUpstream", err)
				}
				noSecrets(t, err)
			})
		})
	}
}

// TestTransportErrorRedacted checks the text of a transport's error that
// repeats the URL, as *url.Error does, and the credentials on their own.
func TestTransportErrorRedacted(t *testing.T) {
	for _, call := range calls {
		c := &work.Client{CorpID: corpID, AgentID: agentID, Secret: secret, Endpoints: work.EndpointsAt("http://wecom.invalid"),
			HTTPClient: &http.Client{Transport: leaky{}}}
		err := call.call(context.Background(), c)
		if !errors.Is(err, mp.ErrUpstream) {
			t.Errorf("%s: got %v, want mp.ErrUpstream", call.name, err)
		}
		noSecrets(t, err)
	}
}

// leaky is a transport whose error repeats the request's URL and body.
type leaky struct{}

func (leaky) RoundTrip(r *http.Request) (*http.Response, error) {
	var body string
	if r.Body != nil {
		b := make([]byte, 512)
		n, _ := r.Body.Read(b)
		body = string(b[:n])
	}
	return nil, errors.New("dial " + r.URL.String() + " failed; body " + body + "; secret " + secret)
}
