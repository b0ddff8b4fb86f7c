package wechatauth

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/alexedwards/scs/v2"
	"github.com/wechatauth/wechatauth/mp"
)

// wechatUA is the User-Agent of WeChat's browser on Android.
const wechatUA = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 XWEB/1160083 MMWEBSDK/20240301 MMWEBID/1234 MicroMessenger/8.0.49.2600(0x28003133) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64"

func FuzzCallbackQuery(f *testing.F) {
	for _, s := range []string{
		"", "state=", "code=abc&state=" + strings.Repeat("a", 48), "next=%2Faccount", "next=//evil.example",
		"state=" + strings.Repeat("0", 48), "code=&state=x", "state=%00", "state=a&state=b", "code=a;b",
		"next=/x&state=" + strings.Repeat("f", 48),
	} {
		f.Add(s)
	}
	sessions := scs.New()
	a, err := New(Options{
		AppID: "wx0123456789abcdef", AppSecret: "fuzz-secret", CallbackURL: "https://site.example/wechat/callback",
		Sessions: sessions, Endpoints: mp.Endpoints{API: "http://127.0.0.1:1"}, // never reached: no state is pending
		Logger: discardLogger(),
	})
	if err != nil {
		f.Fatal(err)
	}
	h := sessions.LoadAndSave(a.CallbackHandler())
	f.Fuzz(func(t *testing.T, rawQuery string) {
		r := httptest.NewRequest("GET", "https://site.example/wechat/callback", nil)
		r.URL.RawQuery = rawQuery
		r.Header.Set("User-Agent", wechatUA)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		switch w.Code {
		case http.StatusBadRequest:
		case http.StatusFound:
			// Only a ?next= login start redirects, and only to WeChat.
			loc := w.Header().Get("Location")
			if !strings.HasPrefix(loc, mp.DefaultAuthorizeURL+"?") {
				t.Fatalf("query %q: redirect to %q", rawQuery, loc)
			}
		default:
			t.Fatalf("query %q: status %d", rawQuery, w.Code)
		}
		if strings.Contains(w.Body.String(), "fuzz-secret") || strings.Contains(w.Header().Get("Location"), "fuzz-secret") {
			t.Fatalf("query %q: the secret reached the response", rawQuery)
		}
	})
}
