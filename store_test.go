package wechatauth_test

import (
	"testing"

	"github.com/wechatauth/wechatauth"
	"github.com/wechatauth/wechatauth/internal/storetest"
)

func TestMemoryStoreContract(t *testing.T) {
	storetest.Run(t, func(*testing.T) storetest.Store { return wechatauth.NewMemoryStore() })
}
