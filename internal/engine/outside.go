package engine

import (
	"fmt"
	"html/template"
	"net/http"
	"strings"

	"rsc.io/qr"
)

// OpenIn is the words of a page that asks a visitor to open the page in
// another app, such as WeChat or WeCom, by scanning its address: each
// Chinese first, then English, as the flow's own pages are.
type OpenIn struct {
	Title    string // the page's title and heading
	Scan     string // what the page needs and how to scan, in Chinese
	ScanEn   string // the same in English
	OrOpenIn string // the line above the page's address
}

// OpenInPage answers a browser with a page that shows the address of the
// page it asked for, on the site at origin (never the request's Host), as
// a QR code, in words.
func OpenInPage(origin string, words OpenIn) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target := origin + SafeReturn(r.URL.RequestURI())
		WriteHead(w, http.StatusOK, "text/html; charset=utf-8")
		openInTemplate.Execute(w, struct {
			OpenIn
			URL string
			QR  template.HTML
		}{words, target, qrSVG(target)})
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

var openInTemplate = template.Must(template.New("open").Parse(`<!doctype html>
<html lang="zh"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;line-height:1.5;color:#222;text-align:center}
code{word-break:break-all}</style>
</head><body>
<h1>{{.Title}}</h1>
<p>{{.Scan}}<br>{{.ScanEn}}</p>
{{.QR}}
<p>{{.OrOpenIn}}<br><code id="url">{{.URL}}</code></p>
</body></html>
`))
