package wechatauth

import (
	"net/http"

	"github.com/wechatauth/wechatauth/internal/engine"
)

// openInWeChat answers a browser outside WeChat with a page that shows the
// page's address on the site at origin as a QR code to scan with WeChat.
func openInWeChat(origin string) http.Handler {
	return engine.OpenInPage(origin, engine.OpenIn{
		Title:    "请在微信中打开 · Open this page in WeChat",
		Scan:     "此页面需要微信登录。请用微信扫一扫下面的二维码。",
		ScanEn:   "This page needs a WeChat login. Scan the code with WeChat.",
		OrOpenIn: "或在微信中打开 · Or open in WeChat:",
	})
}
