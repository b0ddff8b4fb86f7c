package jssdk_test

import (
	"crypto/sha1"
	"fmt"
	"io"
	"testing"

	"github.com/wechatauth/wechatauth/jssdk"
)

// WeChat's worked example (JS-SDK documentation, appendix 1).
const (
	docTicket    = "sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg"
	docNonce     = "Wm3WZYTPz0wzccnW"
	docTimestamp = 1414587457
	docURL       = "http://mp.weixin.qq.com?params=value"
	docSignature = "0f9de62fce790f9a083d5c99e95740ceb90c27ed"
)

func TestSignatureOfWeChatsExample(t *testing.T) {
	if got := jssdk.Signature(docTicket, docNonce, docTimestamp, docURL); got != docSignature {
		t.Errorf("got %q, want %q", got, docSignature)
	}
}

// independent is the signature computed another way: the string WeChat
// describes, built by fmt and hashed by a streaming SHA-1.
func independent(ticket, nonce string, ts int64, url string) string {
	h := sha1.New()
	io.WriteString(h, fmt.Sprintf("jsapi_ticket=%s&noncestr=%s&timestamp=%d&url=%s", ticket, nonce, ts, url))
	return fmt.Sprintf("%x", h.Sum(nil))
}

func TestSignatureAgainstAnIndependentComputation(t *testing.T) {
	long := "https://example.com/" + string(make([]byte, 600)) // longer than the function's stack buffer
	tests := []struct{ name, url string }{
		{"WeChat's example", docURL},
		{"path and query", "https://example.com/account/jssdk?x=1&y=%E4%B8%AD"},
		{"non-ASCII path as sent", "https://example.com/中文/页面?q=值"},
		{"non-ASCII path percent-encoded", "https://example.com/%E4%B8%AD%E6%96%87/"},
		{"WeChat's share parameters", "https://example.com/a?id=7&from=singlemessage&isappinstalled=0"},
		{"timeline share", "https://example.com/a?from=timeline"},
		{"escaped characters kept raw", "https://example.com/a?next=%2Faccount%2F%3Fx%3D1&s=a+b"},
		{"port", "http://127.0.0.1:8080/account/"},
		{"long URL", long},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, ts := range []int64{0, docTimestamp, 1<<40 + 3} {
				got := jssdk.Signature(docTicket, docNonce, ts, tt.url)
				if want := independent(docTicket, docNonce, ts, tt.url); got != want {
					t.Errorf("timestamp %d: got %q, want %q", ts, got, want)
				}
			}
		})
	}
}
