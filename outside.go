package wechatauth

import (
	"fmt"
	"html/template"
	"net/http"
	"strings"

	"github.com/wechatauth/wechatauth/internal/engine"
	"rsc.io/qr"
)

// openInWeChat answers a browser outside WeChat with a page that shows the
// page's address on the site at origin as a QR code to scan with WeChat.
func openInWeChat(origin string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target := origin + engine.SafeReturn(r.URL.RequestURI())
		engine.WriteHead(w, http.StatusOK, "text/html; charset=utf-8")
		openInWeChatTemplate.Execute(w, struct {
			URL string
			QR  template.HTML
		}{target, qrSVG(target)})
	})
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
