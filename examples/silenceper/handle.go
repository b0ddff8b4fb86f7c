// Package silenceper shows how an app that keeps silenceper/wechat for
// messages, templates or customer service shares one access_token with
// wechatauth: silenceper's official account gets its token from this
// module's mp.AccessTokenSource, so there is one fetcher per account and
// neither retires the other's token (WeChat's 40001).
//
// It is an example module of its own, so that wechatauth itself does not
// depend on silenceper/wechat.
package silenceper

import (
	"context"

	"github.com/silenceper/wechat/v2/credential"
	"github.com/wechatauth/wechatauth/mp"
)

// Handle is silenceper's access-token handle
// (credential.AccessTokenContextHandle, which
// officialaccount.SetAccessTokenHandle takes) backed by an
// mp.AccessTokenSource: every token silenceper uses comes from Source,
// through its cache and its single fetch.
type Handle struct {
	Source mp.AccessTokenSource
}

var _ credential.AccessTokenContextHandle = Handle{}

// GetAccessToken returns Source's token. silenceper calls it when it has
// no context to pass.
func (h Handle) GetAccessToken() (string, error) {
	return h.Source.Token(context.Background())
}

// GetAccessTokenContext returns Source's token within ctx. silenceper
// calls it where it has a context (the JS-SDK's ticket, for one).
func (h Handle) GetAccessTokenContext(ctx context.Context) (string, error) {
	return h.Source.Token(ctx)
}
