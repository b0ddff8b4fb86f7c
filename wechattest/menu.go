package wechattest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"

	"github.com/wechatauth/wechatauth/internal/wxspec"
)

// maxMenuBody bounds the body of /cgi-bin/menu/create that is read; the
// menu's own limits are in package wxspec.
const maxMenuBody = 64 << 10

// pathMenuGet is the path of the menu as WeChat keeps it.
const pathMenuGet = "/cgi-bin/menu/get"

// menuBody is the JSON of /cgi-bin/menu/create, and of the "menu" that
// /cgi-bin/menu/get answers. Fields WeChat does not know are ignored, as
// WeChat does.
type menuBody struct {
	Button []menuButton `json:"button"`
}

// menuButton is one button of a menuBody. Written out, it has the fields
// its type uses and always a sub_button list, empty for a button that acts,
// as in WeChat's menu/get replies.
type menuButton struct {
	Type      string       `json:"type,omitempty"`
	Name      string       `json:"name"`
	Key       string       `json:"key,omitempty"`
	URL       string       `json:"url,omitempty"`
	MediaID   string       `json:"media_id,omitempty"`
	AppID     string       `json:"appid,omitempty"`
	PagePath  string       `json:"pagepath,omitempty"`
	ArticleID string       `json:"article_id,omitempty"`
	SubButton []menuButton `json:"sub_button"`
}

// Menu returns the body of the last menu /cgi-bin/menu/create accepted, as
// it was received, or nil when none was.
func (s *Server) Menu() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.menu == nil {
		return nil
	}
	return bytes.Clone(s.menu)
}

// handleMenuCreate serves POST /cgi-bin/menu/create?access_token=…: it
// checks the global access_token (41001, 40001, 42001), then the menu, and
// keeps it for Menu.
func (s *Server) handleMenuCreate(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeError(w, r, 43002)
		return
	}
	s.mu.Lock()
	code := s.checkGlobalLocked(r.URL.Query().Get("access_token"))
	s.mu.Unlock()
	if code != 0 {
		writeError(w, r, code)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxMenuBody))
	if err != nil {
		writeError(w, r, 47001)
		return
	}
	if code := checkMenu(body); code != 0 {
		writeError(w, r, code)
		return
	}
	s.mu.Lock()
	s.menu = body
	s.mu.Unlock()
	writeJSON(w, r, okReply)
}

// handleMenuGet serves GET /cgi-bin/menu/get?access_token=…: after the
// token check of menu/create, the menu created last as
// {"menu":{"button":[…]}}, or 46003 when there is none. A group keeps only
// its name and sub-buttons, as menu/create reads it.
func (s *Server) handleMenuGet(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	code := s.checkGlobalLocked(r.URL.Query().Get("access_token"))
	body := s.menu
	s.mu.Unlock()
	switch {
	case code != 0:
		writeError(w, r, code)
		return
	case body == nil:
		writeError(w, r, 46003)
		return
	}
	var m menuBody
	if err := json.Unmarshal(body, &m); err != nil {
		writeError(w, r, -1) // menu/create kept only a menu that decoded
		return
	}
	for i := range m.Button {
		b := &m.Button[i]
		if len(b.SubButton) > 0 {
			*b = menuButton{Name: b.Name, SubButton: b.SubButton}
		}
		for j := range b.SubButton {
			b.SubButton[j].SubButton = []menuButton{}
		}
		if b.SubButton == nil {
			b.SubButton = []menuButton{}
		}
	}
	writeJSON(w, r, map[string]any{"menu": m})
}

// checkMenu applies WeChat's menu rules to body and returns the errcode of
// the first rule broken, or 0. WECHAT.md §10 gives the range 40015–40020
// for bad buttons without saying which code goes with which rule; the
// emulator follows the names of WeChat's global return codes:
//
//	47001  the body is not a JSON menu
//	40016  not 1 to 3 top-level buttons, or more than 5 sub-buttons
//	       (WeChat's table also lists 40023 for the sub-button count; the
//	       emulator keeps one code for both levels)
//	40017  a type missing, unknown or incomplete (media_id, article_id,
//	       or appid and pagepath of a miniprogram), or sub-buttons nested
//	       in a sub-button
//	40018  a name empty or longer than 16 bytes (top level) or 60 bytes
//	       (sub-button)
//	40019  a key missing where the type needs one, or longer than 128 bytes
//	40020  a url missing where the type needs one, longer than 1024 bytes,
//	       or not an absolute http(s) URL
//
// A top-level button with sub-buttons is a group: only its name counts, and
// a type or key on it is ignored.
func checkMenu(body []byte) int {
	var m menuBody
	if err := json.Unmarshal(body, &m); err != nil {
		return 47001
	}
	if n := len(m.Button); n < 1 || n > wxspec.MaxTopButtons {
		return 40016
	}
	for _, b := range m.Button {
		if len(b.SubButton) == 0 {
			if code := checkButton(b, wxspec.MaxTopName); code != 0 {
				return code
			}
			continue
		}
		if b.Name == "" || len(b.Name) > wxspec.MaxTopName {
			return 40018
		}
		if len(b.SubButton) > wxspec.MaxSubButtons {
			return 40016
		}
		for _, sb := range b.SubButton {
			if len(sb.SubButton) > 0 {
				return 40017
			}
			if code := checkButton(sb, wxspec.MaxSubName); code != 0 {
				return code
			}
		}
	}
	return 0
}

// checkButton checks a button that acts: its name (at most maxName bytes),
// its type and the fields the type needs.
func checkButton(b menuButton, maxName int) int {
	if b.Name == "" || len(b.Name) > maxName {
		return 40018
	}
	switch b.Type {
	case "click", "scancode_push", "scancode_waitmsg", "pic_sysphoto", "pic_photo_or_album", "pic_weixin", "location_select":
		if b.Key == "" {
			return 40019
		}
	case "view":
		if b.URL == "" {
			return 40020
		}
	case "media_id", "view_limited":
		if b.MediaID == "" {
			return 40017
		}
	case "article_id", "article_view_limited":
		if b.ArticleID == "" {
			return 40017
		}
	case "miniprogram":
		if b.AppID == "" || b.PagePath == "" {
			return 40017
		}
		if b.URL == "" {
			return 40020 // the page for clients without mini programs
		}
	default:
		return 40017
	}
	if len(b.Key) > wxspec.MaxKey {
		return 40019
	}
	if b.URL != "" {
		u, err := url.Parse(b.URL)
		if len(b.URL) > wxspec.MaxURL || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return 40020
		}
	}
	return 0
}
