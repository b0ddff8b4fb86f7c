package work_test

import (
	"fmt"
	"net/http"
	"os"

	"github.com/gomodule/redigo/redis"
	"github.com/wechatauth/wechatauth/mp"
	"github.com/wechatauth/wechatauth/redisstore"
	"github.com/wechatauth/wechatauth/work"
)

// Inside the WeCom client, the login starts at WeCom's authorization page,
// with the CorpID as appid and the app's AgentID.
func ExampleClient_AuthorizeURL() {
	c := &work.Client{CorpID: "ww0123456789abcdef", AgentID: "1000002", Secret: "…"}
	fmt.Println(c.AuthorizeURL("https://app.example.com/auth/callback", work.ScopeBase, "Xy12"))
	// Output:
	// https://open.weixin.qq.com/connect/oauth2/authorize?appid=ww0123456789abcdef&redirect_uri=https%3A%2F%2Fapp.example.com%2Fauth%2Fcallback&response_type=code&scope=snsapi_base&state=Xy12&agentid=1000002#wechat_redirect
}

// A desktop browser goes to WeCom's Web login instead, which comes back
// to the same callback.
func ExampleClient_WebLoginURL() {
	c := &work.Client{CorpID: "ww0123456789abcdef", AgentID: "1000002", Secret: "…"}
	fmt.Println(c.WebLoginURL("https://app.example.com/auth/callback", "Xy12", "en"))
	// Output:
	// https://login.work.weixin.qq.com/wwlogin/sso/login?login_type=CorpApp&appid=ww0123456789abcdef&agentid=1000002&redirect_uri=https%3A%2F%2Fapp.example.com%2Fauth%2Fcallback&state=Xy12&lang=en
}

// A setup mistake comes with the setting to change.
func ExampleError_Fix() {
	err := &work.Error{Code: work.CodeIPNotTrusted, Endpoint: "/cgi-bin/auth/getuserinfo",
		Msg: "not allow to access from your ip, hint: [1700000000_1_abc], from ip: 203.0.113.7, more info at https://open.work.weixin.qq.com/devtool/query?e=60020"}
	fmt.Println(err.Misconfigured(), err.FromIP())
	fmt.Println(err.Fix())
	// Output:
	// true 203.0.113.7
	// add 203.0.113.7 to the app's 企业可信IP (应用管理 → 应用 → 企业可信IP; the list can be edited once a 可信域名 or message URL is set)
}

// One corp access_token per app, shared by every instance through Redis,
// serves the code's exchange in the callback. (Not run: it needs WeCom.)
func ExampleNewAccessTokenSource() {
	c := &work.Client{CorpID: os.Getenv("WECOM_CORPID"), AgentID: os.Getenv("WECOM_AGENTID"), Secret: os.Getenv("WECOM_SECRET")}
	store := redisstore.New(&redis.Pool{Dial: func() (redis.Conn, error) { return redis.Dial("tcp", "localhost:6379") }})
	tokens := work.NewAccessTokenSource(c, mp.CredentialOptions{
		Cache: store.CredentialCache(work.AccessTokenCredential, c.Account()),
	})

	http.HandleFunc("/auth/callback", func(w http.ResponseWriter, r *http.Request) {
		// (Check state first.)
		id, err := c.UserInfo(r.Context(), tokens, r.FormValue("code"))
		if err != nil {
			http.Error(w, "login failed", http.StatusBadGateway)
			return
		}
		if _, _, linked := id.LinkedCorp(); id.UserID == "" || linked {
			http.Error(w, "members of the corp only", http.StatusForbidden)
			return
		}
		member, err := c.User(r.Context(), tokens, id.UserID)
		if err != nil {
			http.Error(w, "directory unavailable", http.StatusBadGateway)
			return
		}
		fmt.Fprintf(w, "hello %s", member.Name)
	})
}
