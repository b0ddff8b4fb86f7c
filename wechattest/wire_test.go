package wechattest_test

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/wechatauth/wechatauth/wechattest"
)

// The answers, byte for byte, in the shapes of WeChat's documentation:
// the JSON object and nothing after it (WECHAT.md §3, §6, §8, §10, §12).
// Random values (tokens, tickets, the rid) are taken from the answer and
// put back into the documented shape.
func TestAnswersAreWeChatsBytes(t *testing.T) {
	s := newServer(t)
	cred := []string{"grant_type", "client_credential", "appid", s.AppID, "secret", s.AppSecret}
	rid := regexp.MustCompile(`rid: ([0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8})"`)
	ridOf := func(t *testing.T, body string) string {
		t.Helper()
		m := rid.FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no rid in %q", body)
		}
		return m[1]
	}
	same := func(t *testing.T, what, got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("%s:\n got %q\nwant %q", what, got, want)
		}
	}

	t.Run("cgi-bin/token", func(t *testing.T) {
		r := call(t, s, pathGlobalToken, cred...)
		same(t, "token", r.body, `{"access_token":"`+r.AccessToken+`","expires_in":7200}`)
	})
	t.Run("cgi-bin/ticket/getticket", func(t *testing.T) {
		r := call(t, s, pathTicket, "access_token", globalToken(t, s), "type", "jsapi")
		same(t, "ticket", r.body, `{"errcode":0,"errmsg":"ok","ticket":"`+r.Ticket+`","expires_in":7200}`)
	})
	t.Run("cgi-bin errcode", func(t *testing.T) {
		r := call(t, s, pathGlobalToken, "grant_type", "client_credential", "appid", "wxNotTheApp", "secret", s.AppSecret)
		same(t, "40013", r.body, `{"errcode":40013,"errmsg":"invalid appid rid: `+ridOf(t, r.body)+`"}`)
		r = call(t, s, pathTicket, "access_token", strings.Repeat("A", 128), "type", "jsapi")
		same(t, "40001", r.body, `{"errcode":40001,"errmsg":"invalid credential, access_token is invalid or not latest, `+
			`could get access_token by getStableAccessToken, more details at https://mmbizurl.cn/s/JtxxFh33r rid: `+ridOf(t, r.body)+`"}`)
	})
	t.Run("cgi-bin/menu/create", func(t *testing.T) {
		r := post(t, s, pathMenuCreate, simpleMenu, "access_token", globalToken(t, s))
		same(t, "menu", r.body, `{"errcode":0,"errmsg":"ok"}`)
	})
	t.Run("sns errcode", func(t *testing.T) {
		r := call(t, s, pathToken, "appid", s.AppID, "secret", s.AppSecret, "code", "unknown", "grant_type", "authorization_code")
		same(t, "40029", r.body, `{"errcode":40029,"errmsg":"invalid code, rid: `+ridOf(t, r.body)+`"}`)
	})
	t.Run("sns/oauth2/access_token", func(t *testing.T) {
		r := exchange(t, s, s.IssueCode("", "snsapi_base"))
		same(t, "token", r.body, `{"access_token":"`+r.AccessToken+`","expires_in":7200,"refresh_token":"`+r.RefreshToken+
			`","openid":"`+defaultOpenID+`","scope":"snsapi_base"}`)
	})
	t.Run("sns/userinfo", func(t *testing.T) {
		tok := exchange(t, s, s.IssueCode("", "snsapi_userinfo"))
		r := call(t, s, pathUserInfo, "access_token", tok.AccessToken, "openid", tok.OpenID, "lang", "zh_CN")
		avatar := strings.ReplaceAll(r.HeadImgURL, "/", `\/`)
		same(t, "profile", r.body, `{"openid":"`+defaultOpenID+`","nickname":"测试用户","sex":0,"province":"","city":"","country":"",`+
			`"headimgurl":"`+avatar+`","privilege":[]}`)
		if !strings.HasPrefix(avatar, `http:\/\/`) {
			t.Errorf("headimgurl %q: want the slashes escaped, as WeChat sends them", avatar)
		}
	})
}

// Each endpoint's Content-Type, on a success and on an error: text/plain
// on /sns/, "application/json; encoding=utf-8" on /cgi-bin/ (see the
// comment in wire.go for where each comes from).
func TestContentTypes(t *testing.T) {
	const sns, cgi = "text/plain", "application/json; encoding=utf-8"
	s := newServer(t)
	tok := exchange(t, s, s.IssueCode("", "snsapi_userinfo"))
	global := globalToken(t, s)
	cred := "grant_type=client_credential&appid=" + s.AppID + "&secret=" + s.AppSecret
	stable := `{"grant_type":"client_credential","appid":"` + s.AppID + `","secret":"` + s.AppSecret + `"}`
	tests := []struct {
		method, path, query, body, want string
	}{
		{"GET", pathToken, "appid=" + s.AppID + "&secret=" + s.AppSecret + "&code=" + s.IssueCode("", "snsapi_base") + "&grant_type=authorization_code", "", sns},
		{"GET", pathRefresh, "appid=" + s.AppID + "&grant_type=refresh_token&refresh_token=" + tok.RefreshToken, "", sns},
		{"GET", pathUserInfo, "access_token=" + tok.AccessToken + "&openid=" + tok.OpenID, "", sns},
		{"GET", pathAuth, "access_token=" + tok.AccessToken + "&openid=" + tok.OpenID, "", sns},
		{"GET", pathGlobalToken, cred, "", cgi},
		{"POST", pathStableToken, "", stable, cgi},
		{"GET", pathTicket, "access_token=" + global + "&type=jsapi", "", cgi},
		{"POST", pathMenuCreate, "access_token=" + global, simpleMenu, cgi},
		{"GET", "/cgi-bin/menu/get", "access_token=" + global, "", cgi},
	}
	do := func(t *testing.T, method, path, query, body string) (string, string) {
		t.Helper()
		req, err := http.NewRequest(method, s.URL+path+"?"+query, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := s.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.Header.Get("Content-Type"), string(b)
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			ct, body := do(t, tt.method, tt.path, tt.query, tt.body)
			if ct != tt.want || strings.Contains(body, `"errcode":4`) {
				t.Errorf("success: got %q %q, want %q and no errcode", ct, body, tt.want)
			}
			// An error from the handler itself, and one queued by FailNext.
			ct, body = do(t, tt.method, tt.path, "", "{}")
			if ct != tt.want || !strings.Contains(body, `"errcode":4`) {
				t.Errorf("error: got %q %q, want %q and an errcode", ct, body, tt.want)
			}
			s.FailNext(tt.path, -1)
			if ct, body = do(t, tt.method, tt.path, tt.query, tt.body); ct != tt.want || !strings.HasPrefix(body, `{"errcode":-1,`) {
				t.Errorf("FailNext: got %q %q, want %q and errcode -1", ct, body, tt.want)
			}
		})
	}
}

// The emulator's own endpoints are JSON too, but not WeChat's.
func TestOwnEndpointsAnswerJSON(t *testing.T) {
	s := wechattest.NewServer()
	defer s.Close()
	resp, err := s.Client().Post(s.URL+"/_emulator/advance?d=1h", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if got, want := resp.Header.Get("Content-Type"), "application/json; charset=utf-8"; got != want {
		t.Errorf("Content-Type: got %q, want %q", got, want)
	}
}

// EndpointsFor gives, for a base URL, what Endpoints gives for a Server.
func TestEndpointsFor(t *testing.T) {
	s := newServer(t)
	for _, base := range []string{s.URL, s.URL + "/"} {
		if got, want := wechattest.EndpointsFor(base), s.Endpoints(); got != want {
			t.Errorf("EndpointsFor(%q): got %+v, want %+v", base, got, want)
		}
	}
	e := wechattest.EndpointsFor(s.URL)
	for _, u := range []string{e.Authorize, e.QRConnect, e.JSSDK} {
		if !strings.HasPrefix(u, s.URL+"/") {
			t.Errorf("endpoint %q: want it on %s", u, s.URL)
		}
	}
}
