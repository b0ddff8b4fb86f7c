package wechattest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/wechatauth/wechatauth/component"
)

// The Open Platform third-party platform (第三方平台) the emulator plays:
// it pushes encrypted component_verify_tickets to the platform's
// 授权事件接收URL and serves the component_access_token.

// Paths of the component API, as [Server.Calls] and [Server.FailNext]
// name them.
const pathComponentToken = "/cgi-bin/component/api_component_token"

// Lifetimes of the component credentials.
const (
	componentTicketTTL   = 12 * time.Hour         // component_verify_ticket
	componentTokenTTL    = 7200 * time.Second     // component_access_token
	componentPushEvery   = 10 * time.Minute       // WeChat's push interval
	componentPushPoll    = 200 * time.Millisecond // how often the push loop reads the emulator's clock
	componentTicketBytes = 36
)

// Defaults of a new Server's platform.
const (
	defaultComponentAppID  = "wx00000000000000c1"
	defaultComponentSecret = "emulator-component-secret-000000"
	defaultComponentToken  = "emulatortoken"
	defaultComponentAESKey = "emulatorComponentAESKey00000000000000000000"
)

// componentState is the platform's state. Guarded by Server.mu.
type componentState struct {
	tickets  map[string]time.Time // every ticket pushed, with its push time
	latest   string
	tokens   map[string]time.Time // component_access_tokens and their expiry
	pushURL  string               // SetComponentPushURL; "" is off
	nextPush time.Time
	loop     bool            // the push loop runs
	auth     authorizerState // the accounts that authorized the platform (component_authorizer.go)
}

func (s *Server) initComponent() {
	s.ComponentAppID, s.ComponentSecret = defaultComponentAppID, defaultComponentSecret
	s.ComponentToken, s.ComponentAESKey = defaultComponentToken, defaultComponentAESKey
	s.component = componentState{tickets: make(map[string]time.Time), tokens: make(map[string]time.Time)}
	s.initAuthorizers()
}

func (s *Server) routeComponent(mux *http.ServeMux) {
	// Any method: a GET gets 43002, as on other POST endpoints.
	mux.HandleFunc(pathComponentToken, s.handleComponentToken)
	s.routeAuthorizers(mux)
}

// componentCrypto is the platform's message crypto.
func (s *Server) componentCrypto() component.Crypto {
	return component.Crypto{Token: s.ComponentToken, EncodingAESKey: s.ComponentAESKey, AppID: s.ComponentAppID}
}

// PushFault spoils a push of [Server.PushVerifyTicketWith], as a test of
// the platform's handler needs.
type PushFault int

// The faults of a push.
const (
	PushIntact       PushFault = iota // as WeChat pushes
	PushBadSignature                  // msg_signature of another Token
	PushWrongAppID                    // encrypted for another component appid
	PushWrongKey                      // encrypted with another EncodingAESKey
)

// PushVerifyTicket pushes a new component_verify_ticket to pushURL, the
// platform's 授权事件接收URL, as WeChat does every 10 minutes: a POST
// with timestamp, nonce, encrypt_type=aes, msg_signature (and a
// signature not to be trusted) and the encrypted XML, to be answered
// with "success". The ticket is WeChat's latest whatever the answer, as
// in WeChat; it returns the ticket, and an error when the answer is not
// HTTP 200 with "success".
func (s *Server) PushVerifyTicket(pushURL string) (string, error) {
	return s.PushVerifyTicketWith(pushURL, PushIntact)
}

// PushVerifyTicketWith is [Server.PushVerifyTicket] with a fault. A
// spoiled push still makes its ticket WeChat's latest, as a push the
// platform lost does.
func (s *Server) PushVerifyTicketWith(pushURL string, fault PushFault) (string, error) {
	s.mu.Lock()
	now := s.nowLocked()
	ticket := "ticket@@@" + uniqueToken(componentTicketBytes, func(t string) bool { _, ok := s.component.tickets["ticket@@@"+t]; return ok })
	s.component.tickets[ticket] = now
	s.component.latest = ticket
	c := s.componentCrypto()
	s.mu.Unlock()

	msg := fmt.Sprintf("<xml><AppId><![CDATA[%s]]></AppId><CreateTime>%d</CreateTime><InfoType><![CDATA[component_verify_ticket]]></InfoType><ComponentVerifyTicket><![CDATA[%s]]></ComponentVerifyTicket></xml>",
		c.AppID, now.Unix(), ticket)
	return ticket, s.push(pushURL, c, []byte(msg), fault)
}

// PushAuthorization pushes an authorization event (infoType "authorized",
// "updateauthorized" or "unauthorized") for the Official Account
// authorizerAppID to pushURL, with an authorization code for the first
// two. The event happens in the emulator too: "authorized" and
// "updateauthorized" make the account an authorizer (as
// [Server.AddAuthorizer]) and their code works once, for an hour, on
// api_query_auth ("authorized" as a new authorization, see
// [Server.AuthorizationCode]; "updateauthorized" keeping the current
// refresh token); "unauthorized" revokes it (as
// [Server.RevokeAuthorizer]).
func (s *Server) PushAuthorization(pushURL, infoType, authorizerAppID string) error {
	s.mu.Lock()
	now := s.nowLocked()
	c := s.componentCrypto()
	code := s.pushedAuthorizationLocked(infoType, authorizerAppID)
	s.mu.Unlock()
	msg := fmt.Sprintf("<xml><AppId><![CDATA[%s]]></AppId><CreateTime>%d</CreateTime><InfoType><![CDATA[%s]]></InfoType><AuthorizerAppid><![CDATA[%s]]></AuthorizerAppid><AuthorizationCode><![CDATA[%s]]></AuthorizationCode><AuthorizationCodeExpiredTime>%d</AuthorizationCodeExpiredTime><PreAuthCode><![CDATA[preauthcode@@@%s]]></PreAuthCode></xml>",
		c.AppID, now.Unix(), infoType, authorizerAppID, code, now.Add(time.Hour).Unix(), randomToken(12))
	return s.push(pushURL, c, []byte(msg), PushIntact)
}

// push posts msg to pushURL, encrypted and signed with c as fault says.
func (s *Server) push(pushURL string, c component.Crypto, msg []byte, fault PushFault) error {
	timestamp := strconv.FormatInt(time.Now().Unix(), 10)
	nonce := strconv.Itoa(int(time.Now().UnixNano() % 1e9))
	enc := c
	switch fault {
	case PushWrongAppID:
		enc.AppID = "wx00000000000000ff"
	case PushWrongKey:
		enc.EncodingAESKey = "otherComponentAESKey0000000000000000000000Z"
	}
	encrypted, sig, err := enc.Encrypt(msg, timestamp, nonce)
	if err != nil {
		return fmt.Errorf("wechattest: encrypting the push: %w", err)
	}
	if fault == PushBadSignature {
		other := c
		other.Token += "-other"
		sig = other.Signature(timestamp, nonce, encrypted)
	}
	q := url.Values{"timestamp": {timestamp}, "nonce": {nonce}, "encrypt_type": {"aes"},
		"msg_signature": {sig}, "signature": {randomToken(20)}}
	body := fmt.Sprintf("<xml><AppId><![CDATA[%s]]></AppId><Encrypt><![CDATA[%s]]></Encrypt></xml>", c.AppID, encrypted)
	u, err := url.Parse(pushURL)
	if err != nil {
		return fmt.Errorf("wechattest: push URL %q: %w", pushURL, err)
	}
	u.RawQuery = q.Encode()
	resp, err := pushClient.Post(u.String(), "text/xml", bytes.NewBufferString(body))
	if err != nil {
		return fmt.Errorf("wechattest: pushing to the platform: %w", err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	if resp.StatusCode != http.StatusOK || string(answer) != "success" {
		return fmt.Errorf("wechattest: the platform answered the push with HTTP %d %q, want 200 \"success\"", resp.StatusCode, answer)
	}
	return nil
}

// SetComponentPushURL makes the emulator push a verify ticket to pushURL
// at once and then every 10 minutes of the emulator's clock (so
// [Server.Advance] brings the next push forward), as WeChat pushes to a
// platform's 授权事件接收URL. Failed pushes go to the logger of
// [Server.SetLogger]. "" stops the pushes.
func (s *Server) SetComponentPushURL(pushURL string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.component.pushURL = pushURL
	s.component.nextPush = time.Time{}
	if pushURL != "" && !s.component.loop {
		s.component.loop = true
		go s.pushLoop()
	}
}

// pushLoop pushes while a push URL is set, reading the emulator's clock.
func (s *Server) pushLoop() {
	t := time.NewTicker(componentPushPoll)
	defer t.Stop()
	for {
		s.mu.Lock()
		target, now, due := s.component.pushURL, s.nowLocked(), false
		if target == "" {
			s.component.loop = false
			s.mu.Unlock()
			return
		}
		if !now.Before(s.component.nextPush) {
			due = true
			s.component.nextPush = now.Add(componentPushEvery)
		}
		l := s.logger
		s.mu.Unlock()
		if due {
			if _, err := s.PushVerifyTicket(target); err != nil && l != nil {
				l.Warn("component_verify_ticket push failed", "error", err.Error())
			}
		}
		select {
		case <-s.done:
			return
		case <-t.C:
		}
	}
}

// pushClient carries the pushes; a platform that hangs does not hold the
// push loop for long.
var pushClient = &http.Client{Timeout: 10 * time.Second}

// componentTokenRequest is the body of api_component_token.
type componentTokenRequest struct {
	AppID  string `json:"component_appid"`
	Secret string `json:"component_appsecret"`
	Ticket string `json:"component_verify_ticket"`
}

// componentTokenReply is its answer.
type componentTokenReply struct {
	Token     string `json:"component_access_token"`
	ExpiresIn int    `json:"expires_in"`
}

// handleComponentToken serves POST api_component_token: 41018 without
// component_appid, 61011 for another appid, 41004 / 40125 for a missing
// or wrong secret, 61006 for a ticket WeChat never pushed, 61005 for one
// older than 12 hours; otherwise a new token valid 7200 seconds.
func (s *Server) handleComponentToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeComponentError(w, r, 43002)
		return
	}
	var req componentTokenRequest
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	if err != nil || json.Unmarshal(body, &req) != nil {
		writeComponentError(w, r, 47001)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.nowLocked()
	pushed, known := s.component.tickets[req.Ticket]
	switch {
	case req.AppID == "":
		writeComponentError(w, r, 41018)
	case req.AppID != s.ComponentAppID:
		writeComponentError(w, r, 61011)
	case req.Secret == "":
		writeComponentError(w, r, 41004)
	case req.Secret != s.ComponentSecret:
		writeComponentError(w, r, 40125)
	case !known:
		writeComponentError(w, r, 61006)
	case now.Sub(pushed) >= componentTicketTTL:
		writeComponentError(w, r, 61005)
	default:
		tok := uniqueToken(96, func(t string) bool { _, ok := s.component.tokens[t]; return ok })
		s.component.tokens[tok] = now.Add(componentTokenTTL)
		writeJSON(w, r, componentTokenReply{Token: tok, ExpiresIn: int(componentTokenTTL / time.Second)})
	}
}

// writeComponentError answers with WeChat's error shape and the
// component API's texts.
func writeComponentError(w http.ResponseWriter, r *http.Request, errcode int) {
	msg, ok := componentErrorText[errcode]
	if !ok {
		writeError(w, r, errcode)
		return
	}
	sep := " rid: "
	if !isCGI(r.URL.Path) {
		sep = ", rid: " // the /sns/ endpoints of component mode
	}
	noteErrcode(w, errcode)
	writeJSON(w, r, errorReply{ErrCode: errcode, ErrMsg: msg + sep + requestID()})
}

// componentErrorText is WeChat's errmsg of the component API's codes.
var componentErrorText = map[int]string{
	41004: "appsecret missing",
	41018: "missing component_appid",
	43002: "require POST method",
	47001: "data format error",
	61004: "access clientip is not registered",
	61005: "component ticket is expired",
	61006: "component ticket is invalid",
	61011: "invalid component",
	61003: "component is not authorized by this account",
	61010: "code is expired or invalid",
	61023: "refresh_token is invalid",
	40125: "invalid appsecret",
}
