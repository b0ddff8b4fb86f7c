package wechattest_test

import (
	"bytes"
	"encoding/json"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wechatauth/wechatauth/wechattest"
	"github.com/wechatauth/wechatauth/work"
)

const (
	wwGetToken   = "/cgi-bin/gettoken"
	wwUserInfo   = "/cgi-bin/auth/getuserinfo"
	wwLegacyInfo = "/cgi-bin/user/getuserinfo"
	wwUserDetail = "/cgi-bin/auth/getuserdetail"
	wwUserGet    = "/cgi-bin/user/get"
	wwLogin      = "/wwlogin/sso/login"
	wwQRConnect  = "/wwopen/sso/qrConnect"
	wwCallback   = "https://corp.example/wecom/callback"
	wwGuest      = "oWeComGuest0000000000000000001"
	wwLinked     = "ww0000000000000002/lisi"
	wwCT         = "application/json; charset=UTF-8"
)

// wwAnswer is a WeCom API answer: its bytes, Content-Type and errcode.
type wwAnswer struct {
	body, contentType string
	errcode           int
	fields            map[string]any
}

// wwDo sends req to the emulator and reads a WeCom API answer.
func wwDo(t *testing.T, s *wechattest.Server, req *http.Request) wwAnswer {
	t.Helper()
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: got HTTP %d, want 200: %q", req.Method, req.URL.Path, resp.StatusCode, body)
	}
	a := wwAnswer{body: string(body), contentType: resp.Header.Get("Content-Type")}
	if err := json.Unmarshal(body, &a.fields); err != nil {
		t.Fatalf("%s: decoding %q: %v", req.URL.Path, body, err)
	}
	code, ok := a.fields["errcode"].(float64)
	if !ok {
		t.Fatalf("%s: no numeric errcode in %q", req.URL.Path, body)
	}
	a.errcode = int(code)
	return a
}

// wwGet GETs a WeCom API path with pairs as its query.
func wwGet(t *testing.T, s *wechattest.Server, path string, pairs ...string) wwAnswer {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.URL+path+"?"+query(pairs...), nil)
	if err != nil {
		t.Fatal(err)
	}
	return wwDo(t, s, req)
}

// wwPost POSTs body to a WeCom API path.
func wwPost(t *testing.T, s *wechattest.Server, path, body string, pairs ...string) wwAnswer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+path+"?"+query(pairs...), strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	return wwDo(t, s, req)
}

// wwToken fetches the main app's token.
func wwToken(t *testing.T, s *wechattest.Server) string {
	t.Helper()
	return wwTokenOf(t, s, s.CorpSecret)
}

func wwTokenOf(t *testing.T, s *wechattest.Server, secret string) string {
	t.Helper()
	a := wwGet(t, s, wwGetToken, "corpid", s.CorpID, "corpsecret", secret)
	wwWant(t, a, 0)
	return a.fields["access_token"].(string)
}

// wwWant checks a's errcode and, for an error, WeCom's whole errmsg
// shape with the caller's address.
func wwWant(t *testing.T, a wwAnswer, want int) {
	t.Helper()
	if a.errcode != want {
		t.Fatalf("errcode: got %d, want %d (body %q)", a.errcode, want, a.body)
	}
	if a.contentType != wwCT {
		t.Errorf("Content-Type: got %q, want %q", a.contentType, wwCT)
	}
	if strings.HasSuffix(a.body, "\n") {
		t.Errorf("body %q ends in a newline; WeCom's does not", a.body)
	}
	if want == 0 {
		if !strings.HasPrefix(a.body, `{"errcode":0,"errmsg":"ok"`) {
			t.Errorf("body %q: want it to start with errcode 0 and errmsg ok", a.body)
		}
		return
	}
	re := regexp.MustCompile(`^[a-z_/ ,.-]+, hint: \[\d{25}\], from ip: (127\.0\.0\.1|::1), more info at https://open\.work\.weixin\.qq\.com/devtool/query\?e=` + regexp.QuoteMeta(itoa(want)) + `$`)
	if msg, _ := a.fields["errmsg"].(string); !re.MatchString(msg) {
		t.Errorf("errmsg: got %q, want WeCom's shape with the hint, from ip and the devtool link for %d", msg, want)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// wwExchange trades a code on auth/getuserinfo with the main app's token.
func wwExchange(t *testing.T, s *wechattest.Server, code string) wwAnswer {
	t.Helper()
	return wwGet(t, s, wwUserInfo, "access_token", wwToken(t, s), "code", code)
}

// wwLink is an authorize link with appid = CorpID, in the order of
// WeCom's page 91022, agentid after state.
func wwLink(s *wechattest.Server, redirectURI, scope, state, agentID string) string {
	pairs := []string{"appid", s.CorpID, "redirect_uri", redirectURI, "response_type", "code", "scope", scope, "state", state}
	if agentID != "" {
		pairs = append(pairs, "agentid", agentID)
	}
	return s.URL + pathAuthorize + "?" + query(pairs...) + "#wechat_redirect"
}

// wwOpen GETs a page without following redirects.
func wwOpen(t *testing.T, c *http.Client, rawURL string) page {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	return doPage(t, c, req)
}

// htmlForm is the one form of an emulator page, as a browser would send
// it: its action, hidden fields and the option selected in its picker.
type htmlForm struct {
	action string
	fields url.Values
	people []string // the picker's options
}

var (
	formAction  = regexp.MustCompile(`<form method="post" action="([^"]+)">`)
	formHidden  = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
	formOption  = regexp.MustCompile(`<option value="([^"]+)"( selected)?>`)
	formSelect  = regexp.MustCompile(`<select id="([^"]+)" name="([^"]+)">`)
	formButtons = regexp.MustCompile(`<button type="submit" id="([^"]+)" name="decision" value="([^"]+)">`)
)

func parseForm(t *testing.T, body string) htmlForm {
	t.Helper()
	m := formAction.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no form in %q", body)
	}
	f := htmlForm{action: html.UnescapeString(m[1]), fields: url.Values{}}
	for _, h := range formHidden.FindAllStringSubmatch(body, -1) {
		f.fields.Set(h[1], html.UnescapeString(h[2]))
	}
	sel := formSelect.FindStringSubmatch(body)
	if sel == nil {
		t.Fatalf("no picker in %q", body)
	}
	for _, o := range formOption.FindAllStringSubmatch(body, -1) {
		id := html.UnescapeString(o[1])
		f.people = append(f.people, id)
		if o[2] != "" {
			f.fields.Set(sel[2], id)
		}
	}
	return f
}

// submit clicks the button of decision, with the picker set to who
// unless who is empty.
func (f htmlForm) submit(t *testing.T, s *wechattest.Server, c *http.Client, body, decision, who string) page {
	t.Helper()
	found := false
	for _, b := range formButtons.FindAllStringSubmatch(body, -1) {
		found = found || b[2] == decision
	}
	if !found {
		t.Fatalf("no %q button in %q", decision, body)
	}
	form := url.Values{}
	for k, v := range f.fields {
		form[k] = v
	}
	form.Set("decision", decision)
	if who != "" {
		form.Set("userid", who)
	}
	req, err := http.NewRequest(http.MethodPost, s.URL+f.action, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return doPage(t, c, req)
}

func TestWeComDefaults(t *testing.T) {
	s := newServer(t)
	if s.CorpID != "ww0000000000000001" || s.AgentID != "1000002" || s.CorpSecret != "emulator-corpsecret-0000000000000" {
		t.Errorf("defaults: got %q %q %q", s.CorpID, s.AgentID, s.CorpSecret)
	}
	e := s.WeComEndpoints()
	want := work.Endpoints{Authorize: s.URL + pathAuthorize, WebLogin: s.URL + wwLogin, API: s.URL}
	if e != want {
		t.Errorf("WeComEndpoints: got %+v, want %+v", e, want)
	}
}

// gettoken: exact bytes, the same token while it lasts, a new one after
// its 7200 s, and each credential error.
func TestWeComGetToken(t *testing.T) {
	s := newServer(t)
	a := wwGet(t, s, wwGetToken, "corpid", s.CorpID, "corpsecret", s.CorpSecret)
	wwWant(t, a, 0)
	tok := a.fields["access_token"].(string)
	if want := `{"errcode":0,"errmsg":"ok","access_token":"` + tok + `","expires_in":7200}`; a.body != want {
		t.Errorf("body: got %q, want %q", a.body, want)
	}
	if !isURLSafe(tok) || len(tok) < 64 || len(tok) > 512 {
		t.Errorf("token %q: want 64 to 512 URL-safe characters", tok)
	}
	s.Advance(time.Hour)
	a = wwGet(t, s, wwGetToken, "corpid", s.CorpID, "corpsecret", s.CorpSecret)
	// The seconds left, truncated: the wall clock runs too.
	if left := a.fields["expires_in"].(float64); a.fields["access_token"] != tok || left > 3600 || left < 3500 {
		t.Errorf("an hour on: got %q, want the same token with the seconds it has left, about 3600", a.body)
	}
	s.Advance(time.Hour)
	if a = wwGet(t, s, wwGetToken, "corpid", s.CorpID, "corpsecret", s.CorpSecret); a.fields["access_token"] == tok || a.fields["expires_in"] != float64(7200) {
		t.Errorf("after 7200 s: got %q, want a new token for 7200 s", a.body)
	}
	for _, tt := range []struct {
		corpID, secret string
		want           int
	}{
		{"", s.CorpSecret, 41002},
		{"ww9999999999999999", s.CorpSecret, 40013},
		{s.CorpID, "", 41004},
		{s.CorpID, "wrong-secret", 40001},
	} {
		a := wwGet(t, s, wwGetToken, "corpid", tt.corpID, "corpsecret", tt.secret)
		wwWant(t, a, tt.want)
	}
	a = wwGet(t, s, wwGetToken, "corpid", s.CorpID, "corpsecret", "x")
	if !strings.HasPrefix(a.fields["errmsg"].(string), "invalid credential, hint: [") {
		t.Errorf("40001 errmsg: got %q", a.fields["errmsg"])
	}
	if s.Calls(wwGetToken) != 8 {
		t.Errorf("Calls(gettoken): got %d, want 8", s.Calls(wwGetToken))
	}
}

// auth/getuserinfo answers with lowercase keys, each kind of person with
// the keys WeCom gives them.
func TestWeComGetUserInfoBytes(t *testing.T) {
	s := newServer(t)
	s.AddNonMember(wechattest.NonMember{OpenID: "oCustomer", ExternalUserID: "wmCustomer0001", Name: "客户"})
	s.AddMember(wechattest.Member{UserID: "wangwu", Name: "王五", OutOfRange: true})
	for _, tt := range []struct {
		who, scope, want string
	}{
		{"zhangsan", "snsapi_base", `{"errcode":0,"errmsg":"ok","userid":"zhangsan"}`},
		{"zhangsan", "CorpApp", `{"errcode":0,"errmsg":"ok","userid":"zhangsan"}`},
		{"wangwu", "snsapi_privateinfo", `{"errcode":0,"errmsg":"ok","userid":"wangwu"}`},
		{wwLinked, "snsapi_privateinfo", `{"errcode":0,"errmsg":"ok","userid":"` + wwLinked + `"}`},
		{wwGuest, "snsapi_privateinfo", `{"errcode":0,"errmsg":"ok","openid":"` + wwGuest + `"}`},
		{"oCustomer", "snsapi_base", `{"errcode":0,"errmsg":"ok","openid":"oCustomer","external_userid":"wmCustomer0001"}`},
		{"oCustomer", "CorpApp", `{"errcode":0,"errmsg":"ok","openid":"oCustomer","external_userid":"wmCustomer0001"}`},
	} {
		a := wwExchange(t, s, s.IssueWeComCode(tt.who, tt.scope))
		wwWant(t, a, 0)
		if a.body != tt.want {
			t.Errorf("%s %s: got %q, want %q", tt.who, tt.scope, a.body, tt.want)
		}
	}
	// A member in range with privateinfo, in the client: a user_ticket.
	a := wwExchange(t, s, s.IssueWeComCode("", "snsapi_privateinfo"))
	ticket, _ := a.fields["user_ticket"].(string)
	if want := `{"errcode":0,"errmsg":"ok","userid":"zhangsan","user_ticket":"` + ticket + `"}`; a.body != want || !isURLSafe(ticket) {
		t.Errorf("privateinfo: got %q, want %q with a URL-safe ticket", a.body, want)
	}
}

// Codes are single use and live five minutes on the emulator's clock.
func TestWeComCodeSingleUseAndLife(t *testing.T) {
	s := newServer(t)
	code := s.IssueWeComCode("", "snsapi_base")
	wwWant(t, wwExchange(t, s, code), 0)
	wwWant(t, wwExchange(t, s, code), 40029)
	wwWant(t, wwExchange(t, s, "never-issued"), 40029)
	wwWant(t, wwGet(t, s, wwUserInfo, "access_token", wwToken(t, s)), 41008)

	code = s.IssueWeComCode("", "snsapi_base")
	s.Advance(5*time.Minute - time.Second)
	wwWant(t, wwExchange(t, s, code), 0)
	code = s.IssueWeComCode("", "snsapi_base")
	s.Advance(5 * time.Minute)
	wwWant(t, wwExchange(t, s, code), 40029)
}

// A code built for one app and exchanged with another app's token gets
// 50001 and stays unspent; so does a code of a link without agentid
// whose redirect is outside the token's app's trusted domain.
func TestWeComCodeOfAnotherApp(t *testing.T) {
	s := newServer(t)
	s.AddWeComApp(wechattest.WeComApp{AgentID: "1000003", Secret: "second-app-secret", TrustedDomain: "other.example"})
	other := wwTokenOf(t, s, "second-app-secret")
	if other == wwToken(t, s) {
		t.Fatal("two apps got the same token")
	}
	code := s.IssueWeComCode("", "snsapi_base")
	wwWant(t, wwGet(t, s, wwUserInfo, "access_token", other, "code", code), 50001)
	wwWant(t, wwExchange(t, s, code), 0) // unspent by the 50001

	// Through the page, with the second app's agentid.
	c := noRedirect(s)
	p := wwOpen(t, c, wwLink(s, "https://other.example/cb", "snsapi_base", "st", "1000003"))
	code = redirectParams(t, p.location, "https://other.example/cb").Get("code")
	wwWant(t, wwExchange(t, s, code), 50001)
	wwWant(t, wwGet(t, s, wwUserInfo, "access_token", other, "code", code), 0)

	// No agentid: the domain decides. corp.example is not other.example.
	p = wwOpen(t, c, wwLink(s, wwCallback, "snsapi_base", "st", ""))
	code = redirectParams(t, p.location, wwCallback).Get("code")
	wwWant(t, wwGet(t, s, wwUserInfo, "access_token", other, "code", code), 50001)
	wwWant(t, wwExchange(t, s, code), 0) // the main app trusts any host
}

// The legacy user/getuserinfo spends the same codes, with CamelCase keys.
func TestWeComLegacyGetUserInfo(t *testing.T) {
	s := newServer(t)
	s.AddNonMember(wechattest.NonMember{OpenID: "oCustomer", ExternalUserID: "wmCustomer0001"})
	tok := wwToken(t, s)
	a := wwGet(t, s, wwLegacyInfo, "access_token", tok, "code", s.IssueWeComCode("", "snsapi_privateinfo"))
	wwWant(t, a, 0)
	dev, _ := a.fields["DeviceId"].(string)
	ticket, _ := a.fields["user_ticket"].(string)
	if want := `{"errcode":0,"errmsg":"ok","UserId":"zhangsan","DeviceId":"` + dev + `","user_ticket":"` + ticket + `","expires_in":1800}`; a.body != want || dev == "" || ticket == "" {
		t.Errorf("member: got %q, want %q", a.body, want)
	}
	a = wwGet(t, s, wwLegacyInfo, "access_token", tok, "code", s.IssueWeComCode("oCustomer", "CorpApp"))
	if want := `{"errcode":0,"errmsg":"ok","OpenId":"oCustomer","DeviceId":"","external_userid":"wmCustomer0001"}`; a.body != want {
		t.Errorf("customer by Web login: got %q, want %q", a.body, want)
	}
	code := s.IssueWeComCode("", "snsapi_base")
	wwWant(t, wwGet(t, s, wwLegacyInfo, "access_token", tok, "code", code), 0)
	wwWant(t, wwExchange(t, s, code), 40029)
	if a := wwGet(t, s, wwLegacyInfo, "access_token", tok, "code", code); a.errcode != 40029 || strings.Contains(a.body, "UserId") {
		t.Errorf("spent code: got %q", a.body)
	}
}

// getuserdetail: gender a string, no name, the ticket good for 1800 s.
func TestWeComGetUserDetail(t *testing.T) {
	s := newServer(t)
	tok := wwToken(t, s)
	ticket := wwExchange(t, s, s.IssueWeComCode("", "snsapi_privateinfo")).fields["user_ticket"].(string)
	a := wwPost(t, s, wwUserDetail, `{"user_ticket":"`+ticket+`"}`, "access_token", tok)
	wwWant(t, a, 0)
	avatar, qr := a.fields["avatar"].(string), a.fields["qr_code"].(string)
	want := `{"errcode":0,"errmsg":"ok","userid":"zhangsan","gender":"1","avatar":"` + avatar + `","qr_code":"` + qr +
		`","mobile":"13800000000","email":"zhangsan@example.com","biz_mail":"zhangsan@corp.example.com","address":"北京市海淀区"}`
	if a.body != want {
		t.Errorf("detail: got %q, want %q", a.body, want)
	}
	for _, u := range []string{avatar, qr} {
		resp, err := s.Client().Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(u, s.URL) {
			t.Errorf("GET %s: got HTTP %d, want the emulator's picture", u, resp.StatusCode)
		}
	}
	wwWant(t, wwPost(t, s, wwUserDetail, `not json`, "access_token", tok), 47001)
	wwWant(t, wwPost(t, s, wwUserDetail, `{"user_ticket":"unknown"}`, "access_token", tok), 40058)
	wwWant(t, wwPost(t, s, wwUserDetail, `{"user_ticket":"`+ticket+`"}`), 41001)
	s.Advance(1800*time.Second - time.Second)
	wwWant(t, wwPost(t, s, wwUserDetail, `{"user_ticket":"`+ticket+`"}`, "access_token", tok), 0)
	s.Advance(time.Second)
	wwWant(t, wwPost(t, s, wwUserDetail, `{"user_ticket":"`+ticket+`"}`, "access_token", tok), 40058)

	resp, err := s.Client().Get(s.URL + wwUserDetail + "?access_token=" + tok)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET getuserdetail: got HTTP %d, want 405", resp.StatusCode)
	}
}

// user/get: name and departments; the 2022-06-20 switch blanks the
// sensitive fields; who is not there or not visible is refused.
func TestWeComUserGet(t *testing.T) {
	s := newServer(t)
	s.AddMember(wechattest.Member{UserID: "wangwu", Name: "王五", OutOfRange: true})
	s.AddMember(wechattest.Member{UserID: "zhaoliu", Name: "赵六", Department: []int64{2, 3}, MainDepartment: 3, Avatar: "https://img.example/z.png"})
	tok := wwToken(t, s)
	a := wwGet(t, s, wwUserGet, "access_token", tok, "userid", "zhangsan")
	wwWant(t, a, 0)
	avatar, qr := a.fields["avatar"].(string), a.fields["qr_code"].(string)
	want := `{"errcode":0,"errmsg":"ok","userid":"zhangsan","name":"张三","department":[1],"order":[0],"position":"产品经理",` +
		`"mobile":"13800000000","gender":"1","email":"zhangsan@example.com","biz_mail":"zhangsan@corp.example.com",` +
		`"is_leader_in_dept":[0],"direct_leader":[],"avatar":"` + avatar + `","thumb_avatar":"` + avatar + `","telephone":"","alias":"",` +
		`"address":"北京市海淀区","main_department":1,"status":1,"qr_code":"` + qr + `","external_position":""}`
	if a.body != want {
		t.Errorf("user/get: got\n%s\nwant\n%s", a.body, want)
	}
	a = wwGet(t, s, wwUserGet, "access_token", tok, "userid", "zhaoliu")
	if a.fields["main_department"] != float64(3) || a.fields["avatar"] != "https://img.example/z.png" || a.fields["gender"] != "0" {
		t.Errorf("zhaoliu: got %q", a.body)
	}

	s.SetWeComCreatedAfter20220620(true)
	a = wwGet(t, s, wwUserGet, "access_token", tok, "userid", "zhangsan")
	want = `{"errcode":0,"errmsg":"ok","userid":"zhangsan","name":"张三","department":[1],"order":[0],"position":"产品经理",` +
		`"mobile":"","gender":"0","email":"","biz_mail":"","is_leader_in_dept":[0],"direct_leader":[],"avatar":"","thumb_avatar":"",` +
		`"telephone":"","alias":"","address":"","main_department":1,"status":1,"qr_code":"","external_position":""}`
	if a.body != want {
		t.Errorf("user/get of an app created after 2022-06-20: got\n%s\nwant\n%s", a.body, want)
	}
	// The consent still gives them.
	ticket := wwExchange(t, s, s.IssueWeComCode("", "snsapi_privateinfo")).fields["user_ticket"].(string)
	if a := wwPost(t, s, wwUserDetail, `{"user_ticket":"`+ticket+`"}`, "access_token", tok); a.fields["mobile"] != "13800000000" {
		t.Errorf("getuserdetail of a new app: got %q, want the mobile", a.body)
	}

	for _, tt := range []struct {
		userID string
		want   int
	}{{"", 41009}, {"nobody", 60111}, {wwLinked, 60111}, {"wangwu", 60011}} {
		wwWant(t, wwGet(t, s, wwUserGet, "access_token", tok, "userid", tt.userID), tt.want)
	}
}

// The trusted IP list: 60020 naming the caller's address on every call
// with the app's token; gettoken exempt.
func TestWeComTrustedIPs(t *testing.T) {
	s := newServer(t)
	code := s.IssueWeComCode("", "snsapi_privateinfo")
	s.SetWeComTrustedIPs("203.0.113.7", "10.0.0.0/8")
	tok := wwToken(t, s) // exempt
	for _, a := range []wwAnswer{
		wwGet(t, s, wwUserInfo, "access_token", tok, "code", code),
		wwGet(t, s, wwLegacyInfo, "access_token", tok, "code", code),
		wwGet(t, s, wwUserGet, "access_token", tok, "userid", "zhangsan"),
		wwPost(t, s, wwUserDetail, `{"user_ticket":"x"}`, "access_token", tok),
	} {
		wwWant(t, a, 60020)
		if msg := a.fields["errmsg"].(string); !strings.HasPrefix(msg, "not allow to access from your ip, hint: [") {
			t.Errorf("60020 errmsg: got %q", msg)
		}
	}
	s.SetWeComTrustedIPs("127.0.0.0/8", "::1")
	wwWant(t, wwGet(t, s, wwUserInfo, "access_token", tok, "code", code), 0) // unspent by the 60020s
	s.SetWeComTrustedIPs()
	wwWant(t, wwGet(t, s, wwUserGet, "access_token", tok, "userid", "zhangsan"), 0)

	// A second app's list is its own.
	s.AddWeComApp(wechattest.WeComApp{AgentID: "1000003", Secret: "second", TrustedIPs: []string{"198.51.100.1"}})
	wwWant(t, wwGet(t, s, wwUserGet, "access_token", wwTokenOf(t, s, "second"), "userid", "zhangsan"), 60020)
	wwWant(t, wwGet(t, s, wwUserGet, "access_token", tok, "userid", "zhangsan"), 0)
}

// Stale tokens: 41001 without, 40014 unknown or invalidated early, 42001
// past 7200 s; gettoken then hands out a working one.
func TestWeComStaleTokens(t *testing.T) {
	s := newServer(t)
	tok := wwToken(t, s)
	wwWant(t, wwGet(t, s, wwUserGet, "userid", "zhangsan"), 41001)
	wwWant(t, wwGet(t, s, wwUserGet, "access_token", "not-a-token", "userid", "zhangsan"), 40014)
	s.InvalidateWeComTokens()
	wwWant(t, wwGet(t, s, wwUserGet, "access_token", tok, "userid", "zhangsan"), 40014)
	fresh := wwToken(t, s)
	if fresh == tok {
		t.Fatal("gettoken after InvalidateWeComTokens: got the invalidated token")
	}
	wwWant(t, wwGet(t, s, wwUserGet, "access_token", fresh, "userid", "zhangsan"), 0)
	s.Advance(7200 * time.Second)
	wwWant(t, wwGet(t, s, wwUserGet, "access_token", fresh, "userid", "zhangsan"), 42001)
	wwWant(t, wwGet(t, s, wwUserGet, "access_token", wwToken(t, s), "userid", "zhangsan"), 0)
}

// 48002 for the paths the app lacks permission for, gettoken included
// when listed; -1 through FailNext in WeCom's shape, the code unspent.
func TestWeComForbiddenAndBusy(t *testing.T) {
	s := newServer(t)
	tok := wwToken(t, s)
	s.SetWeComForbidden(wwUserGet)
	wwWant(t, wwGet(t, s, wwUserGet, "access_token", tok, "userid", "zhangsan"), 48002)
	code := s.IssueWeComCode("", "snsapi_base")
	s.FailNext(wwUserInfo, -1)
	a := wwGet(t, s, wwUserInfo, "access_token", tok, "code", code)
	wwWant(t, a, -1)
	if !strings.HasPrefix(a.fields["errmsg"].(string), "system busy, hint: [") {
		t.Errorf("-1 errmsg: got %q", a.fields["errmsg"])
	}
	wwWant(t, wwGet(t, s, wwUserInfo, "access_token", tok, "code", code), 0)
	s.SetWeComForbidden(wwGetToken)
	wwWant(t, wwGet(t, s, wwGetToken, "corpid", s.CorpID, "corpsecret", s.CorpSecret), 48002)
	s.SetWeComForbidden()
	wwWant(t, wwGet(t, s, wwUserGet, "access_token", tok, "userid", "zhangsan"), 0)
}

// The authorize page with appid = CorpID is WeCom's; the Official
// Account's links and codes are untouched, and neither kind of code is
// good on the other's exchange.
func TestWeComAuthorizeRouting(t *testing.T) {
	s := newServer(t)
	c := noRedirect(s)
	p := wwOpen(t, c, wwLink(s, wwCallback, "snsapi_base", "st1", s.AgentID))
	q := redirectParams(t, p.location, wwCallback)
	if p.status != http.StatusFound || q.Get("state") != "st1" || q.Get("code") == "" {
		t.Fatalf("WeCom snsapi_base: got HTTP %d Location %q, want a silent redirect with code and state", p.status, p.location)
	}
	wecomCode := q.Get("code")

	p = authorize(t, s, c, authQuery(s, "snsapi_base", "st2"))
	oaCode := redirectParams(t, p.location, callback).Get("code")
	if r := exchange(t, s, wecomCode); r.ErrCode != 40029 {
		t.Errorf("a WeCom code on /sns/oauth2/access_token: got %q, want 40029", r.body)
	}
	wwWant(t, wwExchange(t, s, oaCode), 40029)
	if r := exchange(t, s, oaCode); r.ErrCode != 0 || r.OpenID != defaultOpenID {
		t.Errorf("the Official Account's code: got %q", r.body)
	}
	if a := wwExchange(t, s, wecomCode); a.body != `{"errcode":0,"errmsg":"ok","userid":"zhangsan"}` {
		t.Errorf("the WeCom code: got %q", a.body)
	}
	// The parameters may come in any order on WeCom's page (agentid first
	// here, as socialite writes it).
	p = wwOpen(t, c, s.URL+pathAuthorize+"?"+query("appid", s.CorpID, "agentid", s.AgentID, "redirect_uri", wwCallback, "state", "s", "scope", "snsapi_base", "response_type", "code"))
	if p.status != http.StatusFound {
		t.Errorf("another order: got HTTP %d %q", p.status, p.body)
	}
	// No state: the redirect still works.
	p = wwOpen(t, c, s.URL+pathAuthorize+"?"+query("appid", s.CorpID, "redirect_uri", wwCallback, "response_type", "code", "scope", "snsapi_base"))
	if p.status != http.StatusFound || redirectParams(t, p.location, wwCallback).Get("code") == "" {
		t.Errorf("no state: got HTTP %d Location %q", p.status, p.location)
	}
}

// The authorize page's own pages: errors, the untrusted domain (port
// included), refusal.
func TestWeComAuthorizePages(t *testing.T) {
	s := newServer(t)
	s.SetWeComTrustedDomain("corp.example:8443")
	c := noRedirect(s)
	trusted := "https://corp.example:8443/cb"
	for _, tt := range []struct {
		name, link, want string
	}{
		{"privateinfo without agentid", wwLink(s, trusted, "snsapi_privateinfo", "st", ""), "snsapi_privateinfo 需要 agentid"},
		{"snsapi_userinfo", wwLink(s, trusted, "snsapi_userinfo", "st", s.AgentID), "scope 参数错误"},
		{"no scope", wwLink(s, trusted, "", "st", s.AgentID), "缺少参数 scope"},
		{"unknown agentid", wwLink(s, trusted, "snsapi_base", "st", "999"), "agentid 参数错误"},
		{"bad state", wwLink(s, trusted, "snsapi_base", "st-1", s.AgentID), "state 参数错误"},
		{"relative redirect_uri", wwLink(s, "/cb", "snsapi_base", "st", s.AgentID), "redirect_uri 参数错误"},
	} {
		p := wwOpen(t, c, tt.link)
		if p.status != http.StatusBadRequest || !strings.Contains(p.body, tt.want) || p.location != "" {
			t.Errorf("%s: got HTTP %d %q, want the error page saying %q", tt.name, p.status, p.body, tt.want)
		}
	}

	for _, untrusted := range []string{"https://corp.example/cb", "https://corp.example:9443/cb", "https://www.corp.example:8443/cb"} {
		p := wwOpen(t, c, wwLink(s, untrusted, "snsapi_base", "st", s.AgentID))
		want := s.URL + "/wwopen/uriconfirm?err_type=domain_err&uri=" + url.QueryEscape(untrusted)
		if p.status != http.StatusFound || p.location != want {
			t.Errorf("%s: got HTTP %d Location %q, want WeCom's uriconfirm page %q", untrusted, p.status, p.location, want)
			continue
		}
		p = wwOpen(t, c, p.location)
		if p.status != http.StatusBadRequest || !strings.Contains(p.body, "redirect_uri需使用应用可信域名") || !strings.Contains(p.body, "domain_err") {
			t.Errorf("uriconfirm page: got HTTP %d %q", p.status, p.body)
		}
	}
	p := wwOpen(t, c, wwLink(s, trusted, "snsapi_base", "st", s.AgentID))
	if redirectParams(t, p.location, trusted).Get("code") == "" {
		t.Errorf("trusted host and port: got Location %q, want a code", p.location)
	}

	s.SetMode(wechattest.Refuse)
	p = wwOpen(t, c, wwLink(s, trusted, "snsapi_privateinfo", "st9", s.AgentID))
	if p.status != http.StatusFound || p.location != trusted+"?state=st9" {
		t.Errorf("refused: got HTTP %d Location %q, want state alone", p.status, p.location)
	}
}

// Under ConsentPage a desktop browser clicks through the consent page:
// it picks the person, allows or refuses, and snsapi_base then passes
// silently for the person picked.
func TestWeComConsentPageClickable(t *testing.T) {
	s := newServer(t)
	s.AddNonMember(wechattest.NonMember{OpenID: "oCustomer", ExternalUserID: "wm<&>", Name: "<客户 & Co>"})
	s.SetMode(wechattest.ConsentPage)
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := noRedirect(s)
	c.Jar = jar

	// snsapi_base asks who the browser is, once.
	chooser := wwOpen(t, c, wwLink(s, wwCallback, "snsapi_base", "st2", s.AgentID)).body
	f := parseForm(t, chooser)
	if strings.Contains(chooser, `id="refuse"`) {
		t.Errorf("snsapi_base chooser has a refuse button: %q", chooser)
	}
	r := f.submit(t, s, c, chooser, "allow", "oCustomer")
	q := redirectParams(t, r.location, wwCallback)
	if a := wwExchange(t, s, q.Get("code")); a.body != `{"errcode":0,"errmsg":"ok","openid":"oCustomer","external_userid":"wm<&>"}` || q.Get("state") != "st2" {
		t.Errorf("chosen customer: got %q state %q", a.body, q.Get("state"))
	}
	p := wwOpen(t, c, wwLink(s, wwCallback, "snsapi_base", "st3", s.AgentID))
	q = redirectParams(t, p.location, wwCallback)
	if a := wwExchange(t, s, q.Get("code")); a.fields["openid"] != "oCustomer" {
		t.Errorf("silent snsapi_base after the choice: got %q", a.body)
	}
	// snsapi_privateinfo always asks.
	p = wwOpen(t, c, wwLink(s, wwCallback, "snsapi_privateinfo", "st1", s.AgentID))
	if p.status != http.StatusOK || !strings.Contains(p.body, `id="refuse"`) || !strings.Contains(p.body, "&lt;客户 &amp; Co&gt;") {
		t.Fatalf("consent page: got HTTP %d %q", p.status, p.body)
	}
	consent := p.body
	f = parseForm(t, consent)
	if got := strings.Join(f.people, ","); got != "zhangsan,"+wwLinked+","+wwGuest+",oCustomer" {
		t.Errorf("picker: got %s, want the default member, the linked-corp member, the non-member, the customer", got)
	}
	if f.fields.Get("userid") != "zhangsan" {
		t.Errorf("picker: got %q selected, want the visitor zhangsan", f.fields.Get("userid"))
	}
	if r := f.submit(t, s, c, consent, "refuse", ""); r.status != http.StatusFound || r.location != wwCallback+"?state=st1" {
		t.Errorf("refuse: got HTTP %d Location %q, want state alone", r.status, r.location)
	}
	r = f.submit(t, s, c, consent, "allow", "")
	a := wwExchange(t, s, redirectParams(t, r.location, wwCallback).Get("code"))
	if a.fields["userid"] != "zhangsan" || a.fields["user_ticket"] == nil {
		t.Errorf("allow: got %q, want zhangsan with a user_ticket", a.body)
	}

	// The OA's chooser cookie is not WeCom's, and vice versa.
	if p := authorize(t, s, c, authQuery(s, "snsapi_base", "st4")); p.status != http.StatusOK {
		t.Errorf("OA snsapi_base after a WeCom choice: got HTTP %d, want the OA chooser", p.status)
	}

	// A tampered form is checked again.
	f.fields.Set("redirect_uri", "javascript:alert(1)")
	if r := f.submit(t, s, c, consent, "allow", ""); r.status != http.StatusBadRequest {
		t.Errorf("tampered form: got HTTP %d, want the error page", r.status)
	}
}

// The Web login and the old qrConnect: a confirm page a desktop browser
// clicks, code and state on confirm, state alone on refusal, codes
// without user_ticket.
func TestWeComWebLoginClickable(t *testing.T) {
	s := newServer(t)
	s.SetMode(wechattest.ConsentPage)
	s.SetWeComTrustedDomain("corp.example")
	c := noRedirect(s)
	link := func(path string, pairs ...string) string {
		return s.URL + path + "?" + query(pairs...)
	}
	for _, start := range []string{
		link(wwLogin, "login_type", "CorpApp", "appid", s.CorpID, "agentid", s.AgentID, "redirect_uri", wwCallback, "state", "w1", "lang", "zh"),
		link(wwQRConnect, "appid", s.CorpID, "agentid", s.AgentID, "redirect_uri", wwCallback, "state", "w1"),
	} {
		p := wwOpen(t, c, start)
		if p.status != http.StatusOK || !strings.Contains(p.body, "企业微信登录") {
			t.Fatalf("%s: got HTTP %d %q, want the login page", start, p.status, p.body)
		}
		f := parseForm(t, p.body)
		if r := f.submit(t, s, c, p.body, "refuse", ""); r.location != wwCallback+"?state=w1" {
			t.Errorf("refuse: got Location %q, want state alone", r.location)
		}
		r := f.submit(t, s, c, p.body, "allow", "")
		q := redirectParams(t, r.location, wwCallback)
		if a := wwExchange(t, s, q.Get("code")); a.body != `{"errcode":0,"errmsg":"ok","userid":"zhangsan"}` || q.Get("state") != "w1" {
			t.Errorf("confirm: got %q state %q, want zhangsan without a user_ticket", a.body, q.Get("state"))
		}
		r = f.submit(t, s, c, p.body, "allow", wwGuest)
		if a := wwExchange(t, s, redirectParams(t, r.location, wwCallback).Get("code")); a.fields["openid"] != wwGuest {
			t.Errorf("non-member: got %q", a.body)
		}
	}
	for _, tt := range []struct{ name, link, want string }{
		{"no agentid", link(wwLogin, "login_type", "CorpApp", "appid", s.CorpID, "redirect_uri", wwCallback, "state", "w"), "缺少参数 agentid"},
		{"no login_type", link(wwLogin, "appid", s.CorpID, "agentid", s.AgentID, "redirect_uri", wwCallback, "state", "w"), "login_type"},
		{"ServiceApp", link(wwLogin, "login_type", "ServiceApp", "appid", s.CorpID, "agentid", s.AgentID, "redirect_uri", wwCallback, "state", "w"), "ServiceApp"},
		{"appid not the CorpID", link(wwLogin, "login_type", "CorpApp", "appid", s.AppID, "agentid", s.AgentID, "redirect_uri", wwCallback, "state", "w"), "CorpID"},
		{"untrusted port", link(wwLogin, "login_type", "CorpApp", "appid", s.CorpID, "agentid", s.AgentID, "redirect_uri", "https://corp.example:8443/cb", "state", "w"), "可信域名"},
	} {
		if p := wwOpen(t, c, tt.link); p.status != http.StatusBadRequest || !strings.Contains(p.body, tt.want) {
			t.Errorf("%s: got HTTP %d %q, want the error page saying %q", tt.name, p.status, p.body, tt.want)
		}
	}

	s.SetMode(wechattest.AutoApprove)
	s.SetWeComVisitor(wwLinked)
	p := wwOpen(t, c, link(wwLogin, "login_type", "CorpApp", "appid", s.CorpID, "agentid", s.AgentID, "redirect_uri", wwCallback, "state", "w2"))
	if a := wwExchange(t, s, redirectParams(t, p.location, wwCallback).Get("code")); a.fields["userid"] != wwLinked {
		t.Errorf("AutoApprove for the linked-corp visitor: got %q", a.body)
	}
}

// SetCallbackRetry's relay delivers WeCom callbacks too, on the app's
// trusted domain even when the Official Account's callback domain
// differs.
func TestWeComCallbackRelay(t *testing.T) {
	s := newServer(t)
	s.SetCallbackDomain("app.example")
	s.SetWeComTrustedDomain("corp.example")
	s.SetCallbackRetry(time.Second)
	c := noRedirect(s)
	p := wwOpen(t, c, wwLink(s, wwCallback, "snsapi_base", "st", s.AgentID))
	if !strings.HasPrefix(p.location, s.URL+"/connect/oauth2/authorize/relay?") {
		t.Fatalf("got Location %q, want the relay", p.location)
	}
	if r := wwOpen(t, c, p.location); r.status != http.StatusOK || !strings.Contains(r.body, `id="callback"`) {
		t.Errorf("relay: got HTTP %d %q", r.status, r.body)
	}
	bad := s.URL + "/connect/oauth2/authorize/relay?to=" + url.QueryEscape("https://evil.example/cb?code=x&state=y")
	if r := wwOpen(t, c, bad); r.status != http.StatusBadRequest {
		t.Errorf("relay to an untrusted host: got HTTP %d, want 400", r.status)
	}
}

// The request log names WeCom's errmsg and never the secret, a token, a
// code or a ticket.
func TestWeComRequestLogHasNoSecrets(t *testing.T) {
	s := newServer(t)
	var buf bytes.Buffer
	s.SetLogger(slog.New(slog.NewTextHandler(&buf, nil)))
	tok := wwToken(t, s)
	code := s.IssueWeComCode("", "snsapi_privateinfo")
	ticket := wwGet(t, s, wwUserInfo, "access_token", tok, "code", code).fields["user_ticket"].(string)
	wwGet(t, s, wwUserInfo, "access_token", tok, "code", code)
	wwGet(t, s, wwGetToken, "corpid", s.CorpID, "corpsecret", "wrong-"+s.CorpSecret)
	wwPost(t, s, wwUserDetail, `{"user_ticket":"`+ticket+`"}`, "access_token", tok)
	log := buf.String()
	for _, secret := range []string{s.CorpSecret, tok, code, ticket} {
		if strings.Contains(log, secret) {
			t.Errorf("log holds %q: %s", secret, log)
		}
	}
	for _, want := range []string{
		"path=/cgi-bin/gettoken errcode=0",
		`path=/cgi-bin/auth/getuserinfo errcode=40029 errmsg="invalid code"`,
		`path=/cgi-bin/gettoken errcode=40001 errmsg="invalid credential"`,
		"path=/cgi-bin/auth/getuserdetail errcode=0",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log: want %q in %s", want, log)
		}
	}
}

func TestWeComPanics(t *testing.T) {
	s := newServer(t)
	for name, f := range map[string]func(){
		"AddMember empty":             func() { s.AddMember(wechattest.Member{}) },
		"AddMember bad":               func() { s.AddMember(wechattest.Member{UserID: "a b"}) },
		"AddMember two slashes":       func() { s.AddMember(wechattest.Member{UserID: "a/b/c"}) },
		"AddMember a non-member's id": func() { s.AddMember(wechattest.Member{UserID: wwGuest}) },
		"AddNonMember a member's id":  func() { s.AddNonMember(wechattest.NonMember{OpenID: "zhangsan"}) },
		"AddNonMember bad":            func() { s.AddNonMember(wechattest.NonMember{OpenID: "o.x"}) },
		"SetWeComVisitor unknown":     func() { s.SetWeComVisitor("nobody") },
		"IssueWeComCode scope":        func() { s.IssueWeComCode("", "snsapi_userinfo") },
		"IssueWeComCode unknown":      func() { s.IssueWeComCode("nobody", "snsapi_base") },
		"AddWeComApp main agentid":    func() { s.AddWeComApp(wechattest.WeComApp{AgentID: s.AgentID, Secret: "x"}) },
		"AddWeComApp no secret":       func() { s.AddWeComApp(wechattest.WeComApp{AgentID: "1"}) },
		"SetWeComTrustedIPs bad":      func() { s.SetWeComTrustedIPs("localhost") },
		"SetWeComTrustedDomain URL":   func() { s.SetWeComTrustedDomain("https://corp.example") },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: want a panic", name)
				}
			}()
			f()
		})
	}
}

// wecomApp is a minimal application that logs in with WeCom: its page
// sends strangers to start (the authorize link or the Web login), its
// callback trades the code and keeps the identity in a cookie.
func wecomApp(t *testing.T, s *wechattest.Server, start func(callback string) string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/page", func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie("who"); err == nil {
			io.WriteString(w, "hello "+c.Value)
			return
		}
		http.Redirect(w, r, start("http://"+r.Host+"/cb"), http.StatusFound)
	})
	mux.HandleFunc("/cb", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("state") != "st" {
			http.Error(w, "state", http.StatusBadRequest)
			return
		}
		a := wwGet(t, s, wwUserInfo, "access_token", wwToken(t, s), "code", r.URL.Query().Get("code"))
		who, _ := a.fields["userid"].(string)
		if who == "" {
			who, _ = a.fields["openid"].(string)
		}
		if _, ok := a.fields["user_ticket"]; ok {
			who += "+ticket"
		}
		http.SetCookie(w, &http.Cookie{Name: "who", Value: url.QueryEscape(who)})
		http.Redirect(w, r, "/page", http.StatusFound)
	})
	return mux
}

// LogIn walks a WeCom application's login, in the client and on the
// desktop, for the id given.
func TestWeComLogIn(t *testing.T) {
	s := newServer(t)
	for _, tt := range []struct {
		name, id, want string
		start          func(callback string) string
	}{
		{"privateinfo", "", "zhangsan%2Bticket", func(cb string) string { return wwLink(s, cb, "snsapi_privateinfo", "st", s.AgentID) }},
		{"base, a new member", "zhao.liu@corp", "zhao.liu%40corp", func(cb string) string { return wwLink(s, cb, "snsapi_base", "st", "") }},
		{"web login, non-member", wwGuest, wwGuest, func(cb string) string {
			return s.URL + wwLogin + "?" + query("login_type", "CorpApp", "appid", s.CorpID, "agentid", s.AgentID, "redirect_uri", cb, "state", "st")
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			app := wecomApp(t, s, tt.start)
			req, err := http.NewRequest(http.MethodGet, "http://app.example/page", nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.LogIn(app, req, tt.id); err != nil {
				t.Fatal(err)
			}
			rec := httptestRecorder(app, req)
			if rec != "hello "+tt.want {
				t.Errorf("after LogIn: got %q, want %q", rec, "hello "+tt.want)
			}
		})
	}
}

// httptestRecorder serves req with h and returns the body.
func httptestRecorder(h http.Handler, req *http.Request) string {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Body.String()
}

// Of concurrent exchanges of one code, exactly one succeeds.
func TestWeComConcurrentExchange(t *testing.T) {
	s := newServer(t)
	tok := wwToken(t, s)
	code := s.IssueWeComCode("", "snsapi_privateinfo")
	const n = 8
	results := make(chan int, n)
	for range n {
		go func() {
			resp, err := s.Client().Get(s.URL + wwUserInfo + "?" + query("access_token", tok, "code", code))
			if err != nil {
				results <- -2
				return
			}
			defer resp.Body.Close()
			var r struct {
				ErrCode int `json:"errcode"`
			}
			if json.NewDecoder(resp.Body).Decode(&r) != nil {
				r.ErrCode = -3
			}
			results <- r.ErrCode
		}()
	}
	ok := 0
	for range n {
		switch code := <-results; code {
		case 0:
			ok++
		case 40029:
		default:
			t.Errorf("errcode %d, want 0 or 40029", code)
		}
	}
	if ok != 1 {
		t.Errorf("%d exchanges succeeded, want 1", ok)
	}
}
