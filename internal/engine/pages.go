package engine

import (
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
)

// fail ends a request with an error: logged, then handed to
// Config.ErrorHandler or written as the default page. retry is where the
// page's "try again" link goes.
func (e *Engine[U]) fail(w http.ResponseWriter, r *http.Request, err error, retry string) {
	status := e.status(err)
	e.event(r, Event{Kind: EventFailure, Err: err, Status: status})
	// A redirect may have been under way when a store failed: an error
	// page must not carry its Location.
	w.Header().Del("Location")
	if e.cfg.ErrorHandler != nil {
		e.cfg.ErrorHandler(w, e.hookRequest(r), err)
		return
	}
	title, advice := explain(err, status, e.cfg.Product)
	if !isNavigation(r) {
		writeJSON(w, status, struct {
			Error    string `json:"error"`
			Message  string `json:"message"`
			RetryURL string `json:"retry_url,omitempty"`
		}{"wechat_login_failed", title, retry})
		return
	}
	p := page{Title: title, Advice: advice, Retry: retry}
	if e.cfg.DebugBypass {
		// Debug mode is a developer's: say what failed and what to change.
		p.Detail, p.Fix = err.Error(), fixOf(err)
	}
	writePage(w, status, p)
}

// SessionStoreError answers a failure of the session store (Redis down,
// say) as one of the flow's own: logged, as a failure with status 503,
// then through Config.ErrorHandler or the default "unavailable for a
// moment" page. err is kept in the chain but never shown.
func (e *Engine[U]) SessionStoreError(w http.ResponseWriter, r *http.Request, err error) {
	var sf *storeFailure
	if !errors.As(err, &sf) { // Logout's may name another store already
		err = StoreError("session", err)
	}
	e.fail(w, r, err, "/")
}

// explain gives the default page's words for err: what happened and what
// to do, never err's own text, which may hold internals. status is
// err's.
func explain(err error, status int, pr Product) (title, advice string) {
	var refusal *Refusal
	switch {
	case errors.As(err, &refusal):
		return refusal.Title, refusal.Advice
	case errors.Is(err, ErrInvalidState) && fixOf(err) != "":
		return "浏览器没有带回登录信息 · Your browser did not send the login back", "请允许本站使用 Cookie，并在同一浏览器中完成登录后重试。 · Allow cookies for this site, open it in one browser from start to end, then try again."
	case fixOf(err) != "":
		return "本站的" + pr.Zh + "登录配置有误 · This site's " + pr.En + " login is misconfigured", "这不是您的问题；网站管理员可在日志中查看需要修改的配置。 · This is not your fault, and trying again will not help until the site is fixed; its operators can see what to change in their logs."
	case errors.Is(err, errStateExpired):
		return "登录已超时 · The login took too long", "请重新登录。 · Start the login again."
	case errors.Is(err, ErrInvalidState):
		return "登录链接无效 · This login link is not valid here", "该链接已被使用或来自其他浏览器，请重新登录。 · It was already used, or it was started in another browser. Start the login again."
	case errors.Is(err, errTooManyAttempts):
		return "登录多次失败 · Login keeps failing", "请确认浏览器允许 Cookie，稍等几分钟后重试。 · Make sure cookies are allowed, wait a few minutes, then try again."
	case errors.Is(err, errLoginDenied):
		return "本站未允许您登录 · This site did not let you in", pr.Zh + "登录成功，但本站拒绝了此次登录，如有疑问请联系本站。 · Your " + pr.En + " login worked, but this site refused it. Contact the site if you think this is wrong."
	case errors.Is(err, errSnapshotUser):
		return "当前为页面预览 · This is a preview of the page", "请点击页面底部的“使用完整服务”。 · To use it, tap “使用完整服务” (Use full service) at the bottom of the WeChat page."
	case status == http.StatusServiceUnavailable:
		return "登录暂时不可用 · The login is unavailable for a moment", "请稍后重试。 · Try again in a moment."
	case status == http.StatusGatewayTimeout:
		return pr.Zh + "响应超时 · " + pr.En + " did not answer in time", "请稍后重试。 · Try again in a moment."
	case status == http.StatusBadGateway: // WeChat's errcodes among others
		return pr.Zh + "登录失败 · " + pr.En + " could not complete the login", "请稍后重试。 · Try again in a moment."
	}
	return "无法完成登录 · The login could not be completed", "服务暂时出现问题，请稍后重试。 · This is a problem on our side. Try again later."
}

func (e *Engine[U]) unauthorized(w http.ResponseWriter, r *http.Request, loginURL string) {
	if e.cfg.Unauthorized != nil {
		e.cfg.Unauthorized(w, e.hookRequest(r), loginURL)
		return
	}
	writeJSON(w, http.StatusUnauthorized, struct {
		Error    string `json:"error"`
		LoginURL string `json:"login_url"`
	}{"wechat_login_required", loginURL})
}

// writeJSON answers an API request (not a page navigation) with v.
func writeJSON(w http.ResponseWriter, status int, v any) {
	WriteHead(w, status, "application/json; charset=utf-8")
	json.NewEncoder(w).Encode(v)
}

// WriteHead writes the headers of the package's own answers, which no
// cache keeps and no browser sniffs, and status.
func WriteHead(w http.ResponseWriter, status int, contentType string) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
}

func (e *Engine[U]) refused(w http.ResponseWriter, r *http.Request, retry string) {
	if e.cfg.Refused != nil {
		e.cfg.Refused(w, e.hookRequest(r), retry)
		return
	}
	writePage(w, http.StatusForbidden, page{
		Title:  "您已拒绝" + e.cfg.Product.Zh + "授权 · You declined to log in with " + e.cfg.Product.En,
		Advice: "此页面需要" + e.cfg.Product.Zh + "授权，如需继续请重试。 · This page needs your " + e.cfg.Product.En + " login. Changed your mind? Try again.",
		Retry:  retry,
	})
}

type page struct {
	Title, Advice, Retry string
	Detail, Fix          string // for the developer, in debug mode only
}

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="zh"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;line-height:1.5;color:#222}
a.button{display:inline-block;margin-top:1rem;padding:.6rem 1.2rem;background:#07c160;color:#fff;border-radius:.3rem;text-decoration:none}</style>
</head><body>
<h1>{{.Title}}</h1>
<p>{{.Advice}}</p>
{{if .Retry}}<p><a class="button" id="retry" href="{{.Retry}}">重试 · Try again</a></p>{{end}}
{{if .Detail}}<section id="developer"><h2>For the developer (debug mode)</h2><p><code>{{.Detail}}</code></p>{{if .Fix}}<p><strong>Fix:</strong> {{.Fix}}</p>{{end}}</section>{{end}}
</body></html>
`))

func writePage(w http.ResponseWriter, status int, p page) {
	WriteHead(w, status, "text/html; charset=utf-8")
	pageTemplate.Execute(w, p)
}
