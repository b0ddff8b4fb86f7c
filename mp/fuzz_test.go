package mp

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

func FuzzDecodeReply(f *testing.F) {
	for _, s := range []string{
		`{"access_token":"AT","expires_in":7200,"refresh_token":"RT","openid":"o1","scope":"snsapi_base"}`,
		`{"errcode":40029,"errmsg":"invalid code, rid: 1"}`, `{"errcode":"40029"}`, `<html>502</html>`, ``,
		`{"openid":"o","sex":"1","privilege":["a"]}`, `{"openid":"o","sex":1.5}`, `null`, `[]`, `{"errcode":-1}`,
	} {
		f.Add(200, []byte(s))
	}
	f.Add(500, []byte(`{"errcode":0}`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		for _, v := range []reply{&tokenReply{}, &userInfoReply{}, &apiStatus{}} {
			err := decodeReply("/sns/test", status, body, v)
			if err == nil {
				if status != http.StatusOK {
					t.Fatalf("status %d accepted", status)
				}
				continue
			}
			var apiErr *Error
			if !errors.As(err, &apiErr) && !errors.Is(err, ErrUpstream) {
				t.Fatalf("decodeReply(%d, %q) = %v: neither an *Error nor ErrUpstream (so not a 502)", status, body, err)
			}
			if !strings.HasPrefix(err.Error(), "mp: /sns/test: ") {
				t.Fatalf("error %q lacks the endpoint prefix", err)
			}
		}
	})
}
