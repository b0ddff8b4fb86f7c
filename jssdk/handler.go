package jssdk

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Limits of the API and open-tag names a request may ask for.
const (
	maxNames   = 64
	maxNameLen = 64
	maxReport  = 8 << 10 // bytes of a POSTed report
)

// errBadNames marks an apis or tags parameter that breaks checkNames.
var errBadNames = errors.New("jssdk: bad list of names")

// checkNames checks a jsApiList or openTagList: at most maxNames names of
// letters, digits and '-', each starting with a letter.
func checkNames(names []string) error {
	if len(names) > maxNames {
		return fmt.Errorf("has %d names; at most %d", len(names), maxNames)
	}
	for _, n := range names {
		ok := n != "" && len(n) <= maxNameLen
		for i := 0; ok && i < len(n); i++ {
			c := n[i]
			ok = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && ('0' <= c && c <= '9' || c == '-')
		}
		if !ok {
			return fmt.Errorf("%q is not an API or open tag name such as \"getLocation\" or \"wx-open-launch-weapp\"", n)
		}
	}
	return nil
}

// names reads the comma-separated list of parameter key, or def when the
// query has none.
func names(q url.Values, key string, def []string) ([]string, error) {
	v := q.Get(key)
	if v == "" {
		return def, nil
	}
	list := strings.Split(v, ",")
	if err := checkNames(list); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", errBadNames, key, err)
	}
	return list, nil
}

// report is what the script POSTs after "invalid signature": the page URL
// it signed and the config WeChat refused.
type report struct {
	URL       string `json:"url"`
	Timestamp int64  `json:"timestamp"`
	NonceStr  string `json:"nonceStr"`
	Signature string `json:"signature"`
}

// Handler serves the page script's requests, wherever it is mounted:
//
//	GET  ?url=<page URL>&apis=<names>&tags=<names>
//	     the wx.config of the page as JSON; apis and tags are
//	     comma-separated and default to Options.APIs and Options.OpenTags
//	POST {"url", "timestamp", "nonceStr", "signature"}
//	     WeChat refused this config with "invalid signature": the ticket it
//	     was signed with is dropped and a new one fetched, if it is the one
//	     cached and RenewInterval has passed; {"renewed": true|false}
//
// The url parameter is the page's location.href (the entry URL on iOS),
// encoded once; it is checked, not rebuilt (see Sign). A URL that breaks
// a rule gets HTTP 400 with {"error": "<the rule>"}, a snapshot-page guest
// HTTP 403 with "snapshot": true, a ticket WeChat does not give HTTP 502.
// Answers are never cached and never hold the ticket.
func (s *Signer) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			s.serveConfig(w, r)
		case http.MethodPost:
			s.serveReport(w, r)
		default:
			w.Header().Set("Allow", "GET, HEAD, POST")
			writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "jssdk: GET a config, or POST a refused one"})
		}
	})
}

func (s *Signer) serveConfig(w http.ResponseWriter, r *http.Request) {
	if s.o.Snapshot != nil && s.o.Snapshot(r) {
		writeJSON(w, http.StatusForbidden, map[string]any{
			"error":    "jssdk: a snapshot-page visitor cannot use the JS-SDK; offer the full login",
			"snapshot": true,
		})
		return
	}
	q := r.URL.Query()
	apis, err := names(q, "apis", s.o.APIs)
	if err != nil {
		s.fail(w, err)
		return
	}
	tags, err := names(q, "tags", s.o.OpenTags)
	if err != nil {
		s.fail(w, err)
		return
	}
	c, err := s.Sign(r.Context(), q.Get("url"))
	if err != nil {
		s.fail(w, err)
		return
	}
	c.JSAPIList, c.OpenTagList = apis, tags
	writeJSON(w, http.StatusOK, c)
}

func (s *Signer) serveReport(w http.ResponseWriter, r *http.Request) {
	var rep report
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxReport))
	if err != nil || json.Unmarshal(body, &rep) != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "jssdk: the report must be JSON {\"url\", \"timestamp\", \"nonceStr\", \"signature\"}"})
		return
	}
	renewed, err := s.renew(r.Context(), rep.URL, Config{Timestamp: rep.Timestamp, NonceStr: rep.NonceStr, Signature: rep.Signature})
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"renewed": renewed})
}

// fail answers err: 400 with its text for a bad request, 502 for a
// ticket that could not be had, whose reason goes to the log only.
func (s *Signer) fail(w http.ResponseWriter, err error) {
	if errors.Is(err, ErrBadURL) || errors.Is(err, errBadNames) {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	s.o.Logger.Error("jssdk: no jsapi_ticket for wx.config", "err", err)
	writeJSON(w, http.StatusBadGateway, map[string]string{"error": "jssdk: WeChat's jsapi_ticket is not available now; try again later"})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "jssdk: encoding the answer", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// script is the page script ScriptHandler serves.
//
//go:embed jssdk.js
var script []byte

// ScriptHandler serves the page script, to be included after jweixin:
//
//	<script src="…/jssdk.js" data-config="<where Handler is mounted>"
//	        data-apis="getLocation,updateAppMessageShareData" data-tags=""></script>
//
// It remembers the URL the page was entered with, asks Handler for the
// config of that URL on iOS (iPhone, iPad, iPod) and of the current one
// elsewhere, calls wx.config, and does so again after history.pushState,
// replaceState and popstate. When WeChat answers "invalid signature" it
// reports the config to Handler once and configures again. It tells the
// page by events on document: "jssdk:ready" (detail.url), "jssdk:error"
// (detail.errMsg) and "jssdk:unavailable" (detail.reason "snapshot", for a
// snapshot-page guest, who gets no wx.config). data-snapshot="true" on
// the script tag says so without a request. The global wechatauthJSSDK
// has configure(), to sign again, and entryURL.
func (s *Signer) ScriptHandler() http.Handler {
	sum := sha256.Sum256(script)
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/javascript; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("ETag", etag)
		http.ServeContent(w, r, "jssdk.js", time.Time{}, bytes.NewReader(script))
	})
}
