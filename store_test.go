package wechatauth_test

import (
	"testing"

	"github.com/wechatauth/wechatauth"
	"github.com/wechatauth/wechatauth/storetest"
)

func TestMemoryStoreUsers(t *testing.T) {
	storetest.TestUserStore(t, func(*testing.T) wechatauth.UserStore { return wechatauth.NewMemoryStore() })
}

func TestMemoryStoreTokens(t *testing.T) {
	storetest.TestTokenStore(t, func(*testing.T) wechatauth.TokenStore { return wechatauth.NewMemoryStore() })
}

func TestMemoryStoreCallbacks(t *testing.T) {
	storetest.TestCallbackStore(t, func(*testing.T) wechatauth.CallbackStore { return wechatauth.NewMemoryStore() })
}
