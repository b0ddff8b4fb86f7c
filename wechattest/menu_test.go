package wechattest_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// button is a menu button as JSON, for building test menus.
type button map[string]any

func menuJSON(t *testing.T, buttons ...button) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{"button": buttons})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func click(name string) button {
	return button{"type": "click", "name": name, "key": "K_" + name}
}

func group(name string, subs ...button) button {
	return button{"name": name, "sub_button": subs}
}

func TestMenuLimits(t *testing.T) {
	five := []button{click("a"), click("b"), click("c"), click("d"), click("e")}
	tests := []struct {
		name string
		menu func(t *testing.T) string
		want int
	}{
		{"one button", func(t *testing.T) string { return menuJSON(t, click("a")) }, 0},
		{"three groups of five", func(t *testing.T) string {
			return menuJSON(t, group("一", five...), group("二", five...), group("三", five...))
		}, 0},
		{"every type", func(t *testing.T) string {
			return menuJSON(t,
				group("动作", click("c"),
					button{"type": "view", "name": "网页", "url": "https://example.com/"},
					button{"type": "scancode_push", "name": "扫码", "key": "S"},
					button{"type": "location_select", "name": "位置", "key": "L"},
					button{"type": "pic_weixin", "name": "相册", "key": "P"}),
				group("素材",
					button{"type": "media_id", "name": "图片", "media_id": "MEDIA"},
					button{"type": "view_limited", "name": "图文", "media_id": "MEDIA"},
					button{"type": "article_id", "name": "文章", "article_id": "ART"},
					button{"type": "article_view_limited", "name": "文章2", "article_id": "ART"}),
				button{"type": "miniprogram", "name": "小程序", "appid": "wx1234567890abcdef", "pagepath": "pages/index", "url": "https://example.com/"})
		}, 0},
		{"top name of 16 bytes", func(t *testing.T) string { return menuJSON(t, click(strings.Repeat("x", 16))) }, 0},
		{"sub name of 60 bytes", func(t *testing.T) string { return menuJSON(t, group("g", click(strings.Repeat("x", 60)))) }, 0},
		{"unknown fields are ignored", func(t *testing.T) string {
			return `{"button":[{"type":"click","name":"a","key":"k","color":"red"}],"matchrule":{}}`
		}, 0},

		{"not JSON", func(*testing.T) string { return "button=1" }, 47001},
		{"empty body", func(*testing.T) string { return "" }, 47001},
		{"name as a number", func(*testing.T) string { return `{"button":[{"type":"click","name":1,"key":"k"}]}` }, 47001},
		{"no buttons", func(t *testing.T) string { return menuJSON(t) }, 40016},
		{"no button field", func(*testing.T) string { return `{}` }, 40016},
		{"four buttons", func(t *testing.T) string { return menuJSON(t, click("a"), click("b"), click("c"), click("d")) }, 40016},
		{"six sub-buttons", func(t *testing.T) string { return menuJSON(t, group("g", append(five, click("f"))...)) }, 40016},
		{"unknown type", func(t *testing.T) string {
			return menuJSON(t, button{"type": "link", "name": "a", "url": "https://example.com/"})
		}, 40017},
		{"no type", func(t *testing.T) string { return menuJSON(t, button{"name": "a"}) }, 40017},
		{"nested sub-buttons", func(t *testing.T) string { return menuJSON(t, group("g", group("h", click("a")))) }, 40017},
		{"media_id without media_id", func(t *testing.T) string { return menuJSON(t, button{"type": "media_id", "name": "a"}) }, 40017},
		{"miniprogram without pagepath", func(t *testing.T) string {
			return menuJSON(t, button{"type": "miniprogram", "name": "a", "appid": "wx1", "url": "https://example.com/"})
		}, 40017},
		{"top name of 17 bytes", func(t *testing.T) string { return menuJSON(t, click(strings.Repeat("x", 17))) }, 40018},
		{"top name of 6 Chinese characters", func(t *testing.T) string { return menuJSON(t, click("一二三四五六")) }, 40018},
		{"group name of 17 bytes", func(t *testing.T) string { return menuJSON(t, group(strings.Repeat("x", 17), click("a"))) }, 40018},
		{"sub name of 61 bytes", func(t *testing.T) string { return menuJSON(t, group("g", click(strings.Repeat("x", 61)))) }, 40018},
		{"empty name", func(t *testing.T) string { return menuJSON(t, button{"type": "click", "name": "", "key": "k"}) }, 40018},
		{"click without key", func(t *testing.T) string { return menuJSON(t, button{"type": "click", "name": "a"}) }, 40019},
		{"key of 129 bytes", func(t *testing.T) string {
			return menuJSON(t, button{"type": "click", "name": "a", "key": strings.Repeat("k", 129)})
		}, 40019},
		{"view without url", func(t *testing.T) string { return menuJSON(t, button{"type": "view", "name": "a"}) }, 40020},
		{"url of 1025 bytes", func(t *testing.T) string {
			return menuJSON(t, button{"type": "view", "name": "a", "url": "https://example.com/" + strings.Repeat("p", 1005)})
		}, 40020},
		{"relative url", func(t *testing.T) string { return menuJSON(t, button{"type": "view", "name": "a", "url": "/account/"}) }, 40020},
		{"miniprogram without url", func(t *testing.T) string {
			return menuJSON(t, button{"type": "miniprogram", "name": "a", "appid": "wx1", "pagepath": "p"})
		}, 40020},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t)
			body := tt.menu(t)
			r := post(t, s, pathMenuCreate, body, "access_token", globalToken(t, s))
			wantErrcode(t, r, tt.want)
			got := s.Menu()
			switch {
			case tt.want == 0 && !bytes.Equal(got, []byte(body)):
				t.Errorf("Menu: got %q, want the body as sent, %q", got, body)
			case tt.want != 0 && got != nil:
				t.Errorf("Menu after a refused menu: got %q, want nil", got)
			}
		})
	}
}

func TestMenuKeepsTheLastAccepted(t *testing.T) {
	s := newServer(t)
	if got := s.Menu(); got != nil {
		t.Fatalf("Menu before any: got %q, want nil", got)
	}
	tok := globalToken(t, s)
	first := menuJSON(t, click("first"))
	wantErrcode(t, post(t, s, pathMenuCreate, first, "access_token", tok), 0)
	wantErrcode(t, post(t, s, pathMenuCreate, menuJSON(t), "access_token", tok), 40016)
	if got := string(s.Menu()); got != first {
		t.Errorf("Menu after a refused one: got %q, want %q", got, first)
	}
	second := menuJSON(t, click("second"))
	wantErrcode(t, post(t, s, pathMenuCreate, second, "access_token", tok), 0)
	m := s.Menu()
	if string(m) != second {
		t.Errorf("Menu: got %q, want %q", m, second)
	}
	m[0] = 'X'
	if string(s.Menu()) != second {
		t.Errorf("Menu: changing the returned slice changed the emulator's menu")
	}
}

// menu/get answers in WeChat's documented shape: {"menu":{"button":[…]}},
// every button with a sub_button list, a group with only its name.
func TestMenuGet(t *testing.T) {
	s := newServer(t)
	wantErrcode(t, call(t, s, "/cgi-bin/menu/get"), 41001)
	wantErrcode(t, call(t, s, "/cgi-bin/menu/get", "access_token", "not-a-token"), 40001)
	tok := globalToken(t, s)
	wantErrcode(t, call(t, s, "/cgi-bin/menu/get", "access_token", tok), 46003)

	wantErrcode(t, post(t, s, pathMenuCreate, `{"button":[
		{"type":"view","name":"账户","url":"https://example.com/account/?a=1&b=2","color":"red"},
		{"type":"click","key":"IGNORED","name":"更多","sub_button":[{"type":"click","name":"签到","key":"CHECK_IN"}]}
	]}`, "access_token", tok), 0)
	r := call(t, s, "/cgi-bin/menu/get", "access_token", tok)
	wantErrcode(t, r, 0)
	want := `{"menu":{"button":[
		{"type":"view","name":"账户","url":"https://example.com/account/?a=1&b=2","sub_button":[]},
		{"name":"更多","sub_button":[{"type":"click","name":"签到","key":"CHECK_IN","sub_button":[]}]}
	]}}`
	if !sameJSON(t, []byte(r.body), []byte(want)) {
		t.Errorf("menu/get: got %s, want %s", r.body, want)
	}
	if strings.Contains(r.body, `\u0026`) {
		t.Errorf("menu/get: got %s, want the url's & unescaped, as WeChat writes it", r.body)
	}
}
