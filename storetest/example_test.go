package storetest_test

import (
	"testing"

	"github.com/wechatauth/wechatauth"
	"github.com/wechatauth/wechatauth/storetest"
)

// A store's own tests call the runner of each interface the store
// implements; here wechatauth's MemoryStore stands in for a store of your
// own. In the store's _test.go file the body of testMyStore is a test,
// func TestMyStore(t *testing.T). The suite needs a *testing.T, so this
// example is compiled but not run; the module's own tests run it on
// MemoryStore and on redisstore.Store.
func Example() {
	// newStore gives each check an empty store: for a store on a database,
	// a fresh database, schema or key prefix, dropped in t.Cleanup.
	newStore := func(t *testing.T) *wechatauth.MemoryStore { return wechatauth.NewMemoryStore() }

	testMyStore := func(t *testing.T) {
		storetest.TestUserStore(t, func(t *testing.T) wechatauth.UserStore { return newStore(t) })
		storetest.TestTokenStore(t, func(t *testing.T) wechatauth.TokenStore { return newStore(t) })
		storetest.TestCallbackStore(t, func(t *testing.T) wechatauth.CallbackStore { return newStore(t) })
	}
	_ = testMyStore
}
