package wechattest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
)

// How WeChat's API answers look on the wire. WeChat's documentation shows
// the JSON of each answer but names no Content-Type and says nothing of
// the bytes around it; what follows is what real WeChat is widely reported
// to send, and each choice says where it comes from.
//
//   - No newline after the JSON: captured answers (curl output, client
//     test fixtures) end at the closing brace.
//   - /sns/… answers (web authorization) are labelled "text/plain", with no
//     charset: Spring's RestTemplate famously fails on them with "no
//     suitable HttpMessageConverter … content type [text/plain]".
//   - /cgi-bin/… answers are labelled "application/json; encoding=utf-8"
//     (the non-standard "encoding" parameter included), successes and
//     errors alike: WxJava's media download tells an error from a file by
//     that value, and co-wechat-api decodes a cgi-bin answer only when its
//     Content-Type contains "application/json".
//   - errmsg ends in a request id: "<text> rid: <id>" on /cgi-bin/,
//     "<text>, rid: <id>" on /sns/, as captured answers show.
//   - /sns/userinfo escapes every "/" as "\/" (PHP style), as captured
//     profiles show ("headimgurl":"https:\/\/thirdwx.qlogo.cn\/…").
const (
	snsContentType = "text/plain"
	cgiContentType = "application/json; encoding=utf-8"
	// ownContentType labels the emulator's own endpoints, which are not
	// WeChat's (the clock, the stand-in script's signature check).
	ownContentType = "application/json; charset=utf-8"
)

// isCGI reports whether path belongs to the account's cgi-bin API.
func isCGI(path string) bool { return strings.HasPrefix(path, "/cgi-bin/") }

// contentType is the Content-Type of a JSON answer on path.
func contentType(path string) string {
	switch {
	case isWeComAPI(path):
		return wecomContentType
	case isCGI(path):
		return cgiContentType
	case isAPI(path):
		return snsContentType
	}
	return ownContentType
}

// writeError answers an API call on r's path with WeChat's error shape,
// {"errcode":N,"errmsg":"… rid: …"}, and HTTP 200.
func writeError(w http.ResponseWriter, r *http.Request, errcode int) {
	noteErrcode(w, errcode)
	msg, sep := errorMessage(errcode), ", rid: "
	if isCGI(r.URL.Path) {
		sep = " rid: "
		if errcode == 40001 {
			// cgi-bin's 40001 points to stable_token; the /sns one does not.
			msg += ", could get access_token by getStableAccessToken, more details at https://mmbizurl.cn/s/JtxxFh33r"
		}
	}
	writeJSON(w, r, errorReply{ErrCode: errcode, ErrMsg: msg + sep + requestID()})
}

// errorReply is WeChat's error answer, and its {"errcode":0,"errmsg":"ok"}.
type errorReply struct {
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

// okReply is the answer of a call that succeeds without data.
var okReply = errorReply{ErrCode: 0, ErrMsg: "ok"}

// writeJSON answers a call on r's path with v as JSON, in the bytes and
// with the Content-Type WeChat uses there (see above). The body is UTF-8
// and, like WeChat's, leaves non-ASCII text and <, >, & unescaped.
func writeJSON(w http.ResponseWriter, r *http.Request, v any) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		http.Error(w, "wechattest: encoding reply: "+err.Error(), http.StatusInternalServerError)
		return
	}
	body := bytes.TrimSuffix(b.Bytes(), []byte("\n"))
	if r.URL.Path == pathUserInfo {
		// A "/" appears only inside strings in JSON.
		body = bytes.ReplaceAll(body, []byte("/"), []byte(`\/`))
	}
	w.Header().Set("Content-Type", contentType(r.URL.Path))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}
