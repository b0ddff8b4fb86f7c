package wechatauth

import (
	"fmt"
	"html/template"
	"net/http"
	"strings"

	"rsc.io/qr"
)

// OutsidePolicy says what a page navigation without a login gets when it
// comes from a browser other than WeChat's, where WeChat's authorize page is
// a dead end ("请在微信客户端打开链接").
type OutsidePolicy int

const (
	// OutsideAuto is OutsideQRLogin when Options.WebsiteAppID is set and
	// OutsideOpenInWeChat otherwise, as long as Options.Endpoints.Authorize
	// is WeChat's own page. With other endpoints, such as the emulator in
	// package wechattest, which works in any browser, it is OutsideAuthorize.
	// It is the default.
	OutsideAuto OutsidePolicy = iota
	// OutsideOpenInWeChat shows a page with the page's URL as a QR code to
	// scan with WeChat, and the URL to copy.
	OutsideOpenInWeChat
	// OutsideQRLogin sends the browser to WeChat's website QR login
	// (qrconnect, scope snsapi_login) with the Open Platform website app of
	// Options.WebsiteAppID, and back through the same callback.
	OutsideQRLogin
	// OutsideAuthorize sends every browser to the authorize page, as inside
	// WeChat.
	OutsideAuthorize
)

// scopeLogin is the scope of website QR login.
const scopeLogin Scope = "snsapi_login"

// appWebsite marks a pending login that goes through the website app.
const appWebsite = "web"

// insideWeChat reports whether r comes from WeChat's own browser, whose
// User-Agent carries "MicroMessenger/x.y" (also on WeChat for Windows and
// macOS).
func insideWeChat(r *http.Request) bool {
	return strings.Contains(r.Header.Get("User-Agent"), "MicroMessenger")
}

// outsidePolicy resolves OutsideAuto.
func (o *Options) outsidePolicy() OutsidePolicy {
	switch {
	case o.OutsideWeChat != OutsideAuto:
		return o.OutsideWeChat
	case o.Endpoints.Authorize != DefaultAuthorizeURL:
		return OutsideAuthorize
	case o.WebsiteAppID != "":
		return OutsideQRLogin
	}
	return OutsideOpenInWeChat
}

// openInWeChat answers a browser outside WeChat with a page that shows the
// page's address as a QR code to scan with WeChat.
func (a *Auth) openInWeChat(w http.ResponseWriter, r *http.Request, returnTo string) {
	target := a.origin + safeReturn(returnTo)
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	openInWeChatTemplate.Execute(w, struct {
		URL string
		QR  template.HTML
	}{target, qrSVG(target)})
}

// qrSVG draws text as a QR code in inline SVG, or returns "" if it does not
// fit in one.
func qrSVG(text string) template.HTML {
	code, err := qr.Encode(text, qr.M)
	if err != nil {
		return ""
	}
	const quiet = 4 // the margin scanners need, in modules
	var path strings.Builder
	for y := 0; y < code.Size; y++ {
		for x := 0; x < code.Size; x++ {
			if code.Black(x, y) {
				fmt.Fprintf(&path, "M%d %dh1v1h-1z", x+quiet, y+quiet)
			}
		}
	}
	n := code.Size + 2*quiet
	// Only numbers and fixed text go into the markup: it is safe HTML.
	return template.HTML(fmt.Sprintf(`<svg id="qr" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="240" height="240" shape-rendering="crispEdges" role="img" aria-label="QR code"><rect width="%d" height="%d" fill="#fff"/><path d="%s" fill="#000"/></svg>`, n, n, n, n, path.String()))
}

var openInWeChatTemplate = template.Must(template.New("open").Parse(`<!doctype html>
<html lang="zh"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>请在微信中打开 · Open in WeChat</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;line-height:1.5;color:#222;text-align:center}
code{word-break:break-all}</style>
</head><body>
<h1>请在微信中打开 · Open this page in WeChat</h1>
<p>此页面需要微信登录。请用微信扫一扫下面的二维码。<br>This page needs a WeChat login. Scan the code with WeChat.</p>
{{.QR}}
<p>或在微信中打开 · Or open in WeChat:<br><code id="url">{{.URL}}</code></p>
</body></html>
`))
