package work_test

import (
	"strings"
	"testing"

	"github.com/wechatauth/wechatauth/work"
)

// TestErrorKinds checks which errcodes each predicate of *work.Error
// claims, never two at once, and that a fix comes with each
// misconfiguration and nothing else.
func TestErrorKinds(t *testing.T) {
	type kinds struct{ spent, stale, misconfigured bool }
	cases := []struct {
		code int
		want kinds
	}{
		{work.CodeInvalidCode, kinds{spent: true}},
		{work.CodeInvalidAccessToken, kinds{stale: true}},
		{work.CodeAccessTokenExpired, kinds{stale: true}},
		{work.CodeInvalidSecret, kinds{misconfigured: true}}, // 40001: stale on the Official Account, not here
		{work.CodeInvalidCorpID, kinds{misconfigured: true}},
		{work.CodeSecretMismatch, kinds{misconfigured: true}},
		{work.CodeUntrustedDomain, kinds{misconfigured: true}},
		{work.CodeIPNotTrusted, kinds{misconfigured: true}},
		{work.CodeAPIForbidden, kinds{misconfigured: true}},
		{work.CodeBusy, kinds{}},
		{60111, kinds{}}, // userid not found
	}
	for _, tc := range cases {
		e := &work.Error{Code: tc.code, Endpoint: "/cgi-bin/user/get"}
		got := kinds{spent: e.SpentCode(), stale: e.StaleAccessToken(), misconfigured: e.Misconfigured()}
		if got != tc.want {
			t.Errorf("errcode %d: got %+v, want %+v", tc.code, got, tc.want)
		}
		if fix := e.Fix(); (fix != "") != tc.want.misconfigured {
			t.Errorf("errcode %d: Fix %q, want one exactly for a misconfiguration", tc.code, fix)
		}
		if fix := e.Fix(); fix != "" && !strings.Contains(e.Error(), "; fix: "+fix) {
			t.Errorf("errcode %d: Error() %q does not say the fix", tc.code, e.Error())
		}
	}
}

func TestFixNamesTheSetting(t *testing.T) {
	cases := []struct {
		code int
		msg  string
		want []string
	}{
		{work.CodeIPNotTrusted, "not allow to access from your ip, hint: [1700000000_1_abc], from ip: 203.0.113.7, more info at https://open.work.weixin.qq.com/devtool/query?e=60020",
			[]string{"add 203.0.113.7 to the app's 企业可信IP (应用管理 → 应用 → 企业可信IP"}},
		{work.CodeIPNotTrusted, "not allow to access from your ip",
			[]string{"add this server's public IP to the app's 企业可信IP"}},
		{work.CodeUntrustedDomain, "redirect_url未登记可信域名", []string{"可信域名", "port included", "AgentID"}},
		{work.CodeInvalidSecret, "invalid credential", []string{"Client.Secret", "应用管理 → 应用"}},
		{work.CodeInvalidCorpID, "invalid corpid", []string{"Client.CorpID", "企业ID"}},
		{work.CodeSecretMismatch, "secret invalid", []string{"Client.Secret", "Client.CorpID"}},
		{work.CodeAPIForbidden, "api forbidden", []string{"/cgi-bin/user/get", "可见范围"}},
	}
	for _, tc := range cases {
		e := &work.Error{Code: tc.code, Msg: tc.msg, Endpoint: "/cgi-bin/user/get"}
		for _, w := range tc.want {
			if !strings.Contains(e.Fix(), w) {
				t.Errorf("errcode %d: Fix %q lacks %q", tc.code, e.Fix(), w)
			}
		}
	}
}

func TestFromIP(t *testing.T) {
	cases := []struct{ msg, want string }{
		{"not allow to access from your ip, hint: [1700000000_1_abc], from ip: 203.0.113.7, more info at https://open.work.weixin.qq.com/devtool/query?e=60020", "203.0.113.7"},
		{"invalid credential, hint: [x], from ip: 198.51.100.23", "198.51.100.23"},
		{"not allow to access from your ip, hint: [x], from ip: 2001:db8::7, more info at …", "2001:db8::7"},
		{"not allow to access from your ip, hint: [x], from ip:203.0.113.8 more info", "203.0.113.8"},
		{"not allow to access from your ip", ""},
		{"from ip: localhost, more info", ""},
		{"from ip: ", ""},
		{"", ""},
	}
	for _, tc := range cases {
		if got := (&work.Error{Code: work.CodeIPNotTrusted, Msg: tc.msg}).FromIP(); got != tc.want {
			t.Errorf("FromIP of %q: got %q, want %q", tc.msg, got, tc.want)
		}
	}
}
