package work_test

import (
	"encoding/json"
	"net/http"
	"os"

	"github.com/gomodule/redigo/redis"
	"github.com/wechatauth/wechatauth/jssdk"
	"github.com/wechatauth/wechatauth/mp"
	"github.com/wechatauth/wechatauth/redisstore"
	"github.com/wechatauth/wechatauth/work"
)

// The JS-SDK's two tickets, shared by every instance through Redis: the
// corp's for wx.config, cached per corp, and the app's for
// wx.agentConfig, cached per app. Package jssdk signs with either as it
// signs with the Official Account's. (Not run: it needs WeCom.)
func ExampleNewJSAPITicketSource() {
	c := &work.Client{CorpID: os.Getenv("WECOM_CORPID"), AgentID: os.Getenv("WECOM_AGENTID"), Secret: os.Getenv("WECOM_SECRET")}
	store := redisstore.New(&redis.Pool{Dial: func() (redis.Conn, error) { return redis.Dial("tcp", "localhost:6379") }})
	tokens := work.NewAccessTokenSource(c, mp.CredentialOptions{
		Cache: store.CredentialCache(work.AccessTokenCredential, c.Account()),
	})
	corpTickets := work.NewJSAPITicketSource(c, tokens, mp.CredentialOptions{
		Cache: store.CredentialCache(work.JSAPITicketCredential, c.CorpID),
	})
	agentTickets := work.NewAgentTicketSource(c, tokens, mp.CredentialOptions{
		Cache: store.CredentialCache(work.AgentTicketCredential, c.Account()),
	})

	origins := []string{"https://app.example.com"}
	config, err := jssdk.New(jssdk.Options{AppID: c.CorpID, Tickets: corpTickets, Origins: origins})
	if err != nil {
		panic(err)
	}
	agentConfig, err := jssdk.New(jssdk.Options{AppID: c.CorpID, Tickets: agentTickets, Origins: origins})
	if err != nil {
		panic(err)
	}
	http.HandleFunc("/page", func(w http.ResponseWriter, r *http.Request) {
		page := "https://app.example.com" + r.URL.RequestURI()
		cfg, err := config.Sign(r.Context(), page) // wx.config, with the CorpID as appId
		if err != nil {
			http.Error(w, "JS-SDK unavailable", http.StatusBadGateway)
			return
		}
		agent, err := agentConfig.Sign(r.Context(), page)
		if err != nil {
			http.Error(w, "JS-SDK unavailable", http.StatusBadGateway)
			return
		}
		// wx.agentConfig takes corpid and agentid, and its own timestamp,
		// nonceStr and signature.
		agentCfg := map[string]any{"corpid": c.CorpID, "agentid": c.AgentID,
			"timestamp": agent.Timestamp, "nonceStr": agent.NonceStr, "signature": agent.Signature}
		json.NewEncoder(w).Encode(map[string]any{"config": cfg, "agentConfig": agentCfg})
	})
}
