package wecom_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"

	"github.com/alexedwards/scs/v2"
	"github.com/wechatauth/wechatauth/wechattest"
	"github.com/wechatauth/wechatauth/wecom"
)

// A page for the members of a corp, logged in to through the emulator:
// a desktop browser goes through WeCom's Web login (WeCom's own browser
// would go through the authorize page), comes back to the callback and
// lands on the page.
func ExampleAuth_RequireMember() {
	wx := wechattest.NewServer() // stands in for WeCom
	defer wx.Close()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	site := "http://" + ln.Addr().String()

	sessions := scs.New()
	auth, err := wecom.New(wecom.Options{
		CorpID:      wx.CorpID,     // 我的企业 → 企业信息 → 企业ID
		AgentID:     wx.AgentID,    // 应用管理 → the app → AgentId
		Secret:      wx.CorpSecret, // 应用管理 → the app → Secret
		CallbackURL: site + "/wecom/callback",
		Sessions:    sessions,
		Profile:     true,                // name and departments
		Endpoints:   wx.WeComEndpoints(), // leave out for the real WeCom
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	mux := http.NewServeMux()
	mux.Handle("GET /wecom/callback", auth.CallbackHandler())
	mux.Handle("/staff/", auth.RequireMember(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m, _ := wecom.MemberFrom(r)
		fmt.Fprintf(w, "Hello, %s (%s, departments %v)", m.Name, m.UserID, m.Department)
	})))
	app := &httptest.Server{Listener: ln, Config: &http.Server{Handler: sessions.LoadAndSave(mux)}}
	app.Start()
	defer app.Close()

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	resp, err := browser.Get(site + "/staff/")
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(string(body))
	// Output: Hello, 张三 (zhangsan, departments [1])
}

// New checks every option and reports all problems at once, each naming
// the field and the fix.
func ExampleNew() {
	_, err := wecom.New(wecom.Options{
		CorpID:      "ww0123456789abcdef",
		Secret:      "…",
		CallbackURL: "https://example.com/wecom/callback",
		Scope:       wecom.ScopePrivateInfo,
		Sessions:    scs.New(),
	})
	fmt.Println(err)
	// Output:
	// wecom: Options.AgentID: required: the AgentId of the self-built app (应用管理 → 应用 → the app), such as "1000002"; the Web login needs it, and so does ScopePrivateInfo
}

// Who logged in: a member of the corp, a member of a linked corp, or,
// where Options.AllowNonMembers lets them in, someone who is not a
// member, each with the ID of its kind.
func ExampleMember() {
	for _, m := range []wecom.Member{
		{UserID: "zhangsan"},
		{UserID: "lisi", CorpID: "ww0000000000000002"},
		{OpenID: "wmAbc", ExternalUserID: "wmExt"},
	} {
		fmt.Println(m.IsMember(), m.Linked(), m.ID())
	}
	// Output:
	// true false zhangsan
	// true true ww0000000000000002/lisi
	// false false openid:wmAbc
}
