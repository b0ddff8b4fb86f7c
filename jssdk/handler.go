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
	"strconv"
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

// errBadSign marks a sign parameter other than config and agent.
var errBadSign = errors.New("jssdk: sign must be \"config\" (getConfigSignature) or \"agent\" (getAgentConfigSignature)")

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

// names reads the comma-separated list v of parameter key, or def when
// it is empty.
func names(v, key string, def []string) ([]string, error) {
	if v == "" {
		return def, nil
	}
	list := strings.Split(v, ",")
	if err := checkNames(list); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", errBadNames, key, err)
	}
	return list, nil
}

// configQuery is what a config request's query says.
type configQuery struct{ url, apis, tags, sign, agent, agentAPIs string }

// parseConfigQuery reads the parameters url, apis, tags, sign, agent and
// agentApis of rawQuery in one pass, each as url.Values.Get would give it
// (the first valid pair of that key), without building the map of every
// parameter.
func parseConfigQuery(rawQuery string) configQuery {
	var q configQuery
	var seen [6]bool
	for rawQuery != "" {
		var pair string
		pair, rawQuery, _ = strings.Cut(rawQuery, "&")
		if pair == "" || strings.Contains(pair, ";") {
			continue // url.ParseQuery drops such pairs
		}
		k, v, _ := strings.Cut(pair, "=")
		k, err := url.QueryUnescape(k)
		if err != nil {
			continue
		}
		var i int
		var dst *string
		switch k {
		case "url":
			i, dst = 0, &q.url
		case "apis":
			i, dst = 1, &q.apis
		case "tags":
			i, dst = 2, &q.tags
		case "sign":
			i, dst = 3, &q.sign
		case "agent":
			i, dst = 4, &q.agent
		case "agentApis":
			i, dst = 5, &q.agentAPIs
		default:
			continue
		}
		if seen[i] {
			continue
		}
		v, err = url.QueryUnescape(v)
		if err != nil {
			continue
		}
		seen[i], *dst = true, v
	}
	return q
}

// report is what the script POSTs after "invalid signature": the page URL
// it signed and the config WeChat refused.
type report struct {
	URL       string `json:"url"`
	Timestamp int64  `json:"timestamp"`
	NonceStr  string `json:"nonceStr"`
	Signature string `json:"signature"`
	Agent     bool   `json:"agent"` // WeCom: the refused config is the wx.agentConfig
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
// On WeCom's pages (Options.CorpID) it serves instead:
//
//	GET  ?url=<page URL>&apis=<names>&tags=<names>[&agent=1][&agentApis=<names>]
//	     {"config": <the wx.config>, "agentConfig": <the wx.agentConfig>}:
//	     the wx.config's appId is the CorpID and it has beta: true; the
//	     agentConfig, signed with the agent_config ticket, its own timestamp
//	     and nonce, is there when the request has agent=1 or agentApis
//	     (default Options.AgentAPIs)
//	GET  ?url=<page URL>&sign=config   (ww.register's getConfigSignature)
//	GET  ?url=<page URL>&sign=agent    (ww.register's getAgentConfigSignature)
//	     {"timestamp", "nonceStr", "signature"}, with the corp's ticket or
//	     the agent_config ticket
//	POST {"url", "timestamp", "nonceStr", "signature", "agent": true|false}
//	     as above; "agent": true when the refused one is the wx.agentConfig
//	     (or getAgentConfigSignature's), whose ticket is then renewed
//
// An agentConfig asked of a Signer without Options.AgentTickets gets HTTP
// 400.
//
// The url parameter is the page's location.href (the entry URL on iOS), encoded
// once; it is checked, not rebuilt (see [Signer.Sign]). A URL that breaks a
// rule gets HTTP 400 with {"error": "<the rule>"}, a snapshot-page guest HTTP
// 403 with "snapshot": true, a ticket WeChat does not give HTTP 502. Answers
// are never cached and never hold the ticket.
func (s *Signer) Handler() http.Handler { return http.HandlerFunc(s.serve) }

// serve is what Handler serves (and Accounts' handler, for the Signer of
// a request's account).
func (s *Signer) serve(w http.ResponseWriter, r *http.Request) {
	w.Header()["Cache-Control"] = []string{"no-store"} // canonical keys: Set's checks are not needed
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		s.serveConfig(w, r)
	case http.MethodPost:
		s.serveReport(w, r)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "jssdk: GET a config, or POST a refused one"})
	}
}

func (s *Signer) serveConfig(w http.ResponseWriter, r *http.Request) {
	if s.o.Snapshot != nil && s.o.Snapshot(r) {
		writeJSON(w, http.StatusForbidden, map[string]any{
			"error":    "jssdk: a snapshot-page visitor cannot use the JS-SDK; offer the full login",
			"snapshot": true,
		})
		return
	}
	q := parseConfigQuery(r.URL.RawQuery)
	if s.wecom {
		s.serveWeCom(w, r, &q)
		return
	}
	apis, err := names(q.apis, "apis", s.o.APIs)
	if err != nil {
		s.fail(w, err)
		return
	}
	tags, err := names(q.tags, "tags", s.o.OpenTags)
	if err != nil {
		s.fail(w, err)
		return
	}
	c, err := s.Sign(r.Context(), q.url)
	if err != nil {
		s.fail(w, err)
		return
	}
	s.recovered()
	c.JSAPIList, c.OpenTagList = apis, tags
	writeJSONBytes(w, http.StatusOK, appendConfig(make([]byte, 0, configSize(&c)), &c))
}

// serveWeCom serves a config request of WeCom's pages: the wx.config and,
// when asked, the wx.agentConfig, or one of ww.register's signatures.
func (s *Signer) serveWeCom(w http.ResponseWriter, r *http.Request, q *configQuery) {
	if q.sign != "" {
		k := &s.corp
		switch {
		case q.sign == "agent" && s.agent.src == nil:
			s.fail(w, ErrNoAgent)
			return
		case q.sign == "agent":
			k = &s.agent
		case q.sign != "config":
			s.fail(w, errBadSign)
			return
		}
		signed, err := s.pageURL(q.url)
		if err != nil {
			s.fail(w, err)
			return
		}
		ts, nonce, sig, err := s.signWith(r.Context(), k, signed)
		if err != nil {
			s.fail(w, err)
			return
		}
		s.recovered()
		writeJSONBytes(w, http.StatusOK, appendSigned(make([]byte, 0, 128), ts, nonce, sig))
		return
	}
	apis, err := names(q.apis, "apis", s.o.APIs)
	if err != nil {
		s.fail(w, err)
		return
	}
	tags, err := names(q.tags, "tags", s.o.OpenTags)
	if err != nil {
		s.fail(w, err)
		return
	}
	wantAgent := q.agent == "1" || q.agent == "true" || q.agentAPIs != ""
	agentAPIs, err := names(q.agentAPIs, "agentApis", s.o.AgentAPIs)
	if err != nil {
		s.fail(w, err)
		return
	}
	if wantAgent && s.agent.src == nil {
		s.fail(w, ErrNoAgent)
		return
	}
	signed, err := s.pageURL(q.url)
	if err != nil {
		s.fail(w, err)
		return
	}
	c, err := s.sign(r.Context(), signed)
	if err != nil {
		s.fail(w, err)
		return
	}
	c.JSAPIList, c.OpenTagList = apis, tags
	var ac AgentConfig
	if wantAgent {
		if ac, err = s.signAgent(r.Context(), signed); err != nil {
			s.fail(w, err)
			return
		}
		ac.JSAPIList = agentAPIs
	}
	s.recovered()
	b := make([]byte, 0, configSize(&c)+agentConfigSize(&ac)+32)
	b = append(b, `{"config":`...)
	b = appendConfig(b, &c)
	if wantAgent {
		b = append(b, `,"agentConfig":`...)
		b = appendAgentConfig(b, &ac)
	}
	writeJSONBytes(w, http.StatusOK, append(b, '}'))
}

func (s *Signer) serveReport(w http.ResponseWriter, r *http.Request) {
	var rep report
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxReport))
	if err != nil || json.Unmarshal(body, &rep) != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "jssdk: the report must be JSON {\"url\", \"timestamp\", \"nonceStr\", \"signature\"}"})
		return
	}
	k := &s.corp
	if rep.Agent {
		if s.agent.src == nil {
			s.fail(w, ErrNoAgent)
			return
		}
		k = &s.agent
	}
	renewed, err := s.renew(r.Context(), k, rep.URL, rep.Timestamp, rep.NonceStr, rep.Signature)
	if err != nil {
		s.fail(w, err)
		return
	}
	s.recovered()
	writeJSON(w, http.StatusOK, map[string]bool{"renewed": renewed})
}

// fail answers err: 400 with its text for a bad request, 502 for a
// ticket that could not be had, whose reason goes to the log only, once
// for a run of the same failure.
func (s *Signer) fail(w http.ResponseWriter, err error) {
	if errors.Is(err, ErrBadURL) || errors.Is(err, errBadNames) || errors.Is(err, errBadSign) || errors.Is(err, ErrNoAgent) {
		var oe *originError
		if errors.As(err, &oe) {
			s.refusedOrigin(oe.origin)
		}
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	k := &s.corp
	var te *ticketError
	if errors.As(err, &te) {
		k = te.k
	}
	s.failed(k, err)
	writeJSON(w, http.StatusBadGateway, map[string]string{"error": k.fails})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "jssdk: encoding the answer", http.StatusInternalServerError)
		return
	}
	writeJSONBytes(w, status, b)
}

func writeJSONBytes(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h["Content-Type"] = []string{"application/json; charset=utf-8"}
	h["X-Content-Type-Options"] = []string{"nosniff"}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// appendConfig appends the JSON of c to b, as json.Marshal writes it.
func appendConfig(b []byte, c *Config) []byte {
	b = append(b, '{')
	if c.Debug {
		b = append(b, `"debug":true,`...)
	}
	if c.Beta {
		b = append(b, `"beta":true,`...)
	}
	b = append(b, `"appId":`...)
	b = appendString(b, c.AppID)
	b = append(b, `,"timestamp":`...)
	b = strconv.AppendInt(b, c.Timestamp, 10)
	b = append(b, `,"nonceStr":`...)
	b = appendString(b, c.NonceStr)
	b = append(b, `,"signature":`...)
	b = appendString(b, c.Signature)
	b = append(b, `,"jsApiList":`...)
	b = appendStrings(b, c.JSAPIList)
	b = append(b, `,"openTagList":`...)
	b = appendStrings(b, c.OpenTagList)
	return append(b, '}')
}

// appendAgentConfig appends the JSON of c to b, as json.Marshal writes it.
func appendAgentConfig(b []byte, c *AgentConfig) []byte {
	b = append(b, `{"corpid":`...)
	b = appendString(b, c.CorpID)
	b = append(b, `,"agentid":`...)
	b = appendString(b, c.AgentID)
	b = appendSignedFields(append(b, ','), c.Timestamp, c.NonceStr, c.Signature)
	b = append(b, `,"jsApiList":`...)
	b = appendStrings(b, c.JSAPIList)
	return append(b, '}')
}

// agentConfigSize is the length of the JSON of c when no string needs
// escaping.
func agentConfigSize(c *AgentConfig) int {
	n := 128 + len(c.CorpID) + len(c.AgentID) + len(c.NonceStr) + len(c.Signature)
	for _, v := range c.JSAPIList {
		n += len(v) + 3
	}
	return n
}

// appendSigned appends {"timestamp", "nonceStr", "signature"}, what
// ww.register's getConfigSignature and getAgentConfigSignature return.
func appendSigned(b []byte, ts int64, nonce, sig string) []byte {
	return append(appendSignedFields(append(b, '{'), ts, nonce, sig), '}')
}

func appendSignedFields(b []byte, ts int64, nonce, sig string) []byte {
	b = append(b, `"timestamp":`...)
	b = strconv.AppendInt(b, ts, 10)
	b = append(b, `,"nonceStr":`...)
	b = appendString(b, nonce)
	b = append(b, `,"signature":`...)
	return appendString(b, sig)
}

// configSize is the length of the JSON of c when no string needs
// escaping.
func configSize(c *Config) int {
	n := 128 + len(c.AppID) + len(c.NonceStr) + len(c.Signature)
	for _, l := range [2][]string{c.JSAPIList, c.OpenTagList} {
		for _, v := range l {
			n += len(v) + 3
		}
	}
	return n
}

func appendStrings(b []byte, list []string) []byte {
	if list == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, v := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, v)
	}
	return append(b, ']')
}

// appendString appends v as a JSON string. The values of a config (an
// AppID, a nonce, a hex signature, checked names) need no escaping; any
// other value goes through encoding/json, which escapes as it does
// everywhere else.
func appendString(b []byte, v string) []byte {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(v)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, v...)
	return append(b, '"')
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
// It remembers the URL the page was entered with, asks [Signer.Handler] for the
// config of that URL on iOS (iPhone, iPad, iPod) and of the current one
// elsewhere, calls wx.config, and does so again after history.pushState,
// replaceState and popstate. When WeChat answers "invalid signature" it reports
// the config to [Signer.Handler] once and configures again. It tells the page
// by events on document: "jssdk:ready" (detail.url), "jssdk:error"
// (detail.errMsg) and "jssdk:unavailable" (detail.reason "snapshot", for a
// snapshot-page guest, who gets no wx.config). data-snapshot="true" on the
// script tag says so without a request. The global wechatauthJSSDK has
// configure(), to sign again, and entryURL. On WeCom's pages,
// data-agent-apis (a list, or empty for Options.AgentAPIs) has it call
// wx.agentConfig after wx.config succeeds, report an "invalid signature"
// of it once as well, and tell the page "jssdk:agent-ready" (detail.url) or
// "jssdk:agent-error" (detail.errMsg).
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
