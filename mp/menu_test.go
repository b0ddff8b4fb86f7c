package mp_test

import (
	"strings"
	"testing"

	"github.com/wechatauth/wechatauth/mp"
)

func validMenu() mp.Menu {
	return mp.Menu{Buttons: []mp.Button{
		{Type: mp.ButtonView, Name: "账户", URL: "https://example.com/account/"},
		{Name: "更多", SubButtons: []mp.Button{
			{Type: mp.ButtonClick, Name: "签到", Key: "CHECK_IN"},
			{Type: mp.ButtonMiniProgram, Name: "小程序", AppID: "wx1234567890abcdef", PagePath: "pages/index", URL: "https://example.com/"},
		}},
	}}
}

func TestMenuValidateAcceptsAValidMenu(t *testing.T) {
	if err := validMenu().Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
}

func TestMenuValidateNamesTheBrokenRule(t *testing.T) {
	cases := []struct {
		name   string
		change func(m *mp.Menu)
		want   string
	}{
		{"no buttons", func(m *mp.Menu) { m.Buttons = nil }, "1 to 3"},
		{"four buttons", func(m *mp.Menu) { m.Buttons = append(m.Buttons, m.Buttons...) }, "has 4 top-level buttons"},
		{"top name too long", func(m *mp.Menu) { m.Buttons[0].Name = "一二三四五六" }, `button 1 "一二三四五六": name is 18 bytes; a top-level name may have at most 16`},
		{"six sub-buttons", func(m *mp.Menu) {
			for len(m.Buttons[1].SubButtons) < 6 {
				m.Buttons[1].SubButtons = append(m.Buttons[1].SubButtons, mp.Button{Type: "click", Name: "x", Key: "k"})
			}
		}, "has 6 sub-buttons; at most 5"},
		{"sub name too long", func(m *mp.Menu) { m.Buttons[1].SubButtons[0].Name = strings.Repeat("x", 61) }, "sub-button 1"},
		{"click without key", func(m *mp.Menu) { m.Buttons[1].SubButtons[0].Key = "" }, "type click needs key"},
		{"view without url", func(m *mp.Menu) { m.Buttons[0].URL = "" }, "type view needs url"},
		{"relative url", func(m *mp.Menu) { m.Buttons[0].URL = "/account/" }, "not an absolute http(s) URL"},
		{"unknown type", func(m *mp.Menu) { m.Buttons[0].Type = "link" }, `type "link" is not a WeChat button type`},
		{"group with a type", func(m *mp.Menu) { m.Buttons[1].Type = "click" }, "must have no type"},
		{"key too long", func(m *mp.Menu) { m.Buttons[1].SubButtons[0].Key = strings.Repeat("k", 129) }, "key is 129 bytes; at most 128"},
		{"miniprogram without pagepath", func(m *mp.Menu) { m.Buttons[1].SubButtons[1].PagePath = "" }, "needs appid, pagepath and url"},
		{"empty name", func(m *mp.Menu) { m.Buttons[0].Name = "" }, "name is empty"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := validMenu()
			tc.change(&m)
			err := m.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// A menu file's author knows the JSON keys, not the Go fields: every rule
// names the key to fix.
func TestMenuValidateNamesJSONKeys(t *testing.T) {
	cases := []struct {
		name string
		b    mp.Button
		want string
	}{
		{"media_id", mp.Button{Type: mp.ButtonMediaID, Name: "图文"}, "type media_id needs media_id"},
		{"view_limited", mp.Button{Type: mp.ButtonViewLimited, Name: "图文"}, "type view_limited needs media_id"},
		{"article_id", mp.Button{Type: mp.ButtonArticleID, Name: "文章"}, "type article_id needs article_id"},
		{"miniprogram", mp.Button{Type: mp.ButtonMiniProgram, Name: "小程序"}, "type miniprogram needs appid"},
		{"no type", mp.Button{Name: "空"}, "or a sub_button list"},
		{"group with a type", mp.Button{Type: mp.ButtonClick, Name: "组", SubButtons: []mp.Button{{Type: mp.ButtonClick, Name: "a", Key: "A"}}}, "has a sub_button list, so it must have no type"},
		{"nested group", mp.Button{Name: "组", SubButtons: []mp.Button{{Name: "a", SubButtons: []mp.Button{{Type: mp.ButtonClick, Name: "b", Key: "B"}}}}}, "cannot have a sub_button list of its own"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := mp.Menu{Buttons: []mp.Button{tc.b}}.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
			for _, goName := range []string{"Key", "URL", "MediaID", "AppID", "PagePath", "ArticleID", "SubButtons", "Button constants"} {
				if strings.Contains(err.Error(), goName) {
					t.Errorf("got %q, which names the Go field %s instead of its JSON key", err, goName)
				}
			}
		})
	}
}
