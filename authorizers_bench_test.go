package wechatauth_test

import (
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/wechatauth/wechatauth"
)

// BenchmarkAuthorizerByPath looks up the account of a request among n
// accounts, as the logged-in path of component mode does on every
// request: the cost stays flat as accounts are added.
func BenchmarkAuthorizerByPath(b *testing.B) {
	for _, n := range []int{2, 1000, 100000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			prefixes := map[string]string{"/": "wxdefault"}
			for i := range n {
				prefixes[fmt.Sprintf("/shop-%06d/", i)] = fmt.Sprintf("wx%016d", i)
			}
			by := wechatauth.AuthorizerByPath(prefixes)
			r := httptest.NewRequest("GET", fmt.Sprintf("/shop-%06d/orders/7", n-1), nil)
			want := fmt.Sprintf("wx%016d", n-1)
			b.ReportAllocs()
			for b.Loop() {
				if by(r) != want {
					b.Fatal("wrong account")
				}
			}
		})
	}
}
