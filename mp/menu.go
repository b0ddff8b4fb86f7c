package mp

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/wechatauth/wechatauth/internal/wxspec"
)

// Menu is an Official Account's custom menu: one to three top-level
// buttons, each a button or a group of up to five sub-buttons.
type Menu struct {
	Buttons []Button `json:"button"`
}

// Button is one entry of a [Menu]. A top-level button with SubButtons is a
// group and has only a Name; every other button has a Type and the field
// that type needs.
type Button struct {
	Type       ButtonType `json:"type,omitempty"`
	Name       string     `json:"name"`
	Key        string     `json:"key,omitempty"`        // click and the scancode_, pic_ and location_select types
	URL        string     `json:"url,omitempty"`        // view; the fallback page of miniprogram
	MediaID    string     `json:"media_id,omitempty"`   // media_id, view_limited
	AppID      string     `json:"appid,omitempty"`      // miniprogram
	PagePath   string     `json:"pagepath,omitempty"`   // miniprogram
	ArticleID  string     `json:"article_id,omitempty"` // article_id, article_view_limited
	SubButtons []Button   `json:"sub_button,omitempty"`
}

// ButtonType is what a menu button does, as WeChat names it.
type ButtonType string

// Button types.
const (
	ButtonClick              ButtonType = "click"
	ButtonView               ButtonType = "view"
	ButtonScancodePush       ButtonType = "scancode_push"
	ButtonScancodeWaitMsg    ButtonType = "scancode_waitmsg"
	ButtonPicSysPhoto        ButtonType = "pic_sysphoto"
	ButtonPicPhotoOrAlbum    ButtonType = "pic_photo_or_album"
	ButtonPicWeixin          ButtonType = "pic_weixin"
	ButtonLocationSelect     ButtonType = "location_select"
	ButtonMediaID            ButtonType = "media_id"
	ButtonViewLimited        ButtonType = "view_limited"
	ButtonArticleID          ButtonType = "article_id"
	ButtonArticleViewLimited ButtonType = "article_view_limited"
	ButtonMiniProgram        ButtonType = "miniprogram"
)

// needs names the JSON key each button type must have.
var needs = map[ButtonType]string{
	ButtonClick: "key", ButtonScancodePush: "key", ButtonScancodeWaitMsg: "key",
	ButtonPicSysPhoto: "key", ButtonPicPhotoOrAlbum: "key", ButtonPicWeixin: "key", ButtonLocationSelect: "key",
	ButtonView: "url", ButtonMediaID: "media_id", ButtonViewLimited: "media_id",
	ButtonArticleID: "article_id", ButtonArticleViewLimited: "article_id", ButtonMiniProgram: "appid",
}

// Validate checks m against WeChat's documented limits and reports every
// broken rule, each naming the button and the rule, so that a bad menu is
// refused before any call. The rules name fields by their JSON keys
// ("url", "sub_button"), as a menu file spells them.
func (m Menu) Validate() error {
	var errs []error
	bad := func(where, format string, args ...any) {
		errs = append(errs, fmt.Errorf("mp: menu: %s: %s", where, fmt.Sprintf(format, args...)))
	}
	if n := len(m.Buttons); n < 1 || n > wxspec.MaxTopButtons {
		bad("menu", "has %d top-level buttons; it needs 1 to %d", n, wxspec.MaxTopButtons)
	}
	for i, b := range m.Buttons {
		where := fmt.Sprintf("button %d %q", i+1, b.Name)
		if len(b.Name) > wxspec.MaxTopName {
			bad(where, "name is %d bytes; a top-level name may have at most %d (about 5 Chinese characters)", len(b.Name), wxspec.MaxTopName)
		}
		if len(b.SubButtons) > 0 {
			if b.Type != "" {
				bad(where, "has a sub_button list, so it must have no type (got %q)", b.Type)
			}
			if len(b.SubButtons) > wxspec.MaxSubButtons {
				bad(where, "has %d sub-buttons; at most %d", len(b.SubButtons), wxspec.MaxSubButtons)
			}
			for j, sb := range b.SubButtons {
				swhere := fmt.Sprintf("%s, sub-button %d %q", where, j+1, sb.Name)
				if len(sb.SubButtons) > 0 {
					bad(swhere, "a sub-button cannot have a sub_button list of its own")
				}
				if len(sb.Name) > wxspec.MaxSubName {
					bad(swhere, "name is %d bytes; a sub-button name may have at most %d", len(sb.Name), wxspec.MaxSubName)
				}
				checkAction(sb, swhere, bad)
			}
			continue
		}
		checkAction(b, where, bad)
	}
	return errors.Join(errs...)
}

// checkAction checks a button that does something: its name, type and the
// JSON key its type needs.
func checkAction(b Button, where string, bad func(where, format string, args ...any)) {
	if b.Name == "" {
		bad(where, "name is empty")
	}
	field, ok := needs[b.Type]
	switch {
	case b.Type == "":
		bad(where, "type is empty; give it a button type such as click or view, or a sub_button list")
		return
	case !ok:
		bad(where, "type %q is not a WeChat button type", b.Type)
		return
	}
	value := map[string]string{"key": b.Key, "url": b.URL, "media_id": b.MediaID, "appid": b.AppID, "article_id": b.ArticleID}[field]
	if value == "" {
		bad(where, "type %s needs %s", b.Type, field)
	}
	if len(b.Key) > wxspec.MaxKey {
		bad(where, "key is %d bytes; at most %d", len(b.Key), wxspec.MaxKey)
	}
	if len(b.URL) > wxspec.MaxURL {
		bad(where, "url is %d bytes; at most %d", len(b.URL), wxspec.MaxURL)
	}
	if b.URL != "" {
		if u, err := url.Parse(b.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad(where, "url %q is not an absolute http(s) URL", b.URL)
		}
	}
	if b.Type == ButtonMiniProgram && (b.PagePath == "" || b.URL == "") {
		bad(where, "type miniprogram needs appid, pagepath and url (the page for clients without mini programs)")
	}
}

// CreateMenu validates m and sets it as the account's menu
// (POST /cgi-bin/menu/create), with an access token from ts. When WeChat
// refuses the token as stale, CreateMenu invalidates it and tries once more
// with a fresh one.
func (c *Client) CreateMenu(ctx context.Context, ts AccessTokenSource, m Menu) error {
	if err := m.Validate(); err != nil {
		return err
	}
	return WithAccessToken(ctx, ts, func(token string) error {
		var reply apiStatus
		return c.post(ctx, "/cgi-bin/menu/create", query{"access_token", token}, m, nil, &reply)
	})
}

// Menu returns the account's menu as it is live now (GET /cgi-bin/menu/get),
// in the shape [Client.CreateMenu] takes, with an access token from ts; a
// stale token is replaced and the call tried once more, as in CreateMenu.
// An account without a menu gets an [*Error] with Code [CodeNoMenu]. Menus
// created in the Official Accounts Platform's web editor rather than
// through the API are not part of its answer.
func (c *Client) Menu(ctx context.Context, ts AccessTokenSource) (Menu, error) {
	var m Menu
	err := WithAccessToken(ctx, ts, func(token string) error {
		var reply struct { // fresh for each try: a success carries no errcode
			apiStatus
			Menu Menu `json:"menu"`
		}
		err := c.get(ctx, "/cgi-bin/menu/get", query{"access_token", token}, &reply)
		m = reply.Menu
		return err
	})
	if err != nil {
		return Menu{}, err
	}
	// WeChat gives every button a sub_button list, empty where it acts;
	// nil is how a Menu says "no sub-buttons".
	for i := range m.Buttons {
		for j := range m.Buttons[i].SubButtons {
			if sb := &m.Buttons[i].SubButtons[j]; len(sb.SubButtons) == 0 {
				sb.SubButtons = nil
			}
		}
		if len(m.Buttons[i].SubButtons) == 0 {
			m.Buttons[i].SubButtons = nil
		}
	}
	return m, nil
}
