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
		{"click without key", func(m *mp.Menu) { m.Buttons[1].SubButtons[0].Key = "" }, "type click needs Key"},
		{"view without url", func(m *mp.Menu) { m.Buttons[0].URL = "" }, "type view needs URL"},
		{"relative url", func(m *mp.Menu) { m.Buttons[0].URL = "/account/" }, "not an absolute http(s) URL"},
		{"unknown type", func(m *mp.Menu) { m.Buttons[0].Type = "link" }, `type "link" is not a WeChat button type`},
		{"group with a type", func(m *mp.Menu) { m.Buttons[1].Type = "click" }, "must have no type"},
		{"key too long", func(m *mp.Menu) { m.Buttons[1].SubButtons[0].Key = strings.Repeat("k", 129) }, "key is 129 bytes; at most 128"},
		{"miniprogram without pagepath", func(m *mp.Menu) { m.Buttons[1].SubButtons[1].PagePath = "" }, "needs AppID, PagePath and URL"},
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
