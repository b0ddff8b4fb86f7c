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
// wx.agentConfig, cached per app. One jssdk.Signer signs both objects,
// with the CorpID; its Handler serves them to the page script, and Sign
// and SignAgent to pages rendered on the server. (Not run: it needs
// WeCom.)
func ExampleNewJSAPITicketSource() {
	c := &work.Client{CorpID: os.Getenv("WECOM_CORPID"), AgentID: os.Getenv("WECOM_AGENTID"), Secret: os.Getenv("WECOM_SECRET")}
	store := redisstore.New(&redis.Pool{Dial: func() (redis.Conn, error) { return redis.Dial("tcp", "localhost:6379") }})
	tokens := work.NewAccessTokenSource(c, mp.CredentialOptions{
		Cache: store.CredentialCache(work.AccessTokenCredential, c.Account()),
	})
	signer, err := jssdk.New(jssdk.Options{
		CorpID: c.CorpID, // wx.config's appId, wx.agentConfig's corpid
		Tickets: work.NewJSAPITicketSource(c, tokens, mp.CredentialOptions{
			Cache: store.CredentialCache(work.JSAPITicketCredential, c.CorpID),
		}),
		AgentTickets: work.NewAgentTicketSource(c, tokens, mp.CredentialOptions{
			Cache: store.CredentialCache(work.AgentTicketCredential, c.Account()),
		}),
		AgentID:   c.AgentID,
		Origins:   []string{"https://app.example.com"},
		APIs:      []string{"getLocation"},
		AgentAPIs: []string{"getContext"},
	})
	if err != nil {
		panic(err)
	}
	// For jssdk.js (data-agent-apis) or ww.register's callbacks.
	http.Handle("/wecom/jssdk", signer.Handler())
	http.Handle("GET /wecom/jssdk.js", signer.ScriptHandler())

	// Or signed into a page rendered on the server.
	http.HandleFunc("GET /page", func(w http.ResponseWriter, r *http.Request) {
		page := "https://app.example.com" + r.URL.RequestURI()
		config, err := signer.Sign(r.Context(), page) // with the corp's ticket
		if err != nil {
			http.Error(w, "JS-SDK unavailable", http.StatusBadGateway)
			return
		}
		agentConfig, err := signer.SignAgent(r.Context(), page) // with the app's ticket
		if err != nil {
			http.Error(w, "JS-SDK unavailable", http.StatusBadGateway)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"config": config, "agentConfig": agentConfig})
	})
}
