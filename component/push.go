package component

import (
	"encoding/xml"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/wechatauth/wechatauth/mp"
)

// The InfoType values of the pushes to the 授权事件接收URL.
const (
	InfoVerifyTicket     = "component_verify_ticket"
	InfoAuthorized       = "authorized"
	InfoUpdateAuthorized = "updateauthorized"
	InfoUnauthorized     = "unauthorized"
)

// maxPush bounds the body of a push that is read.
const maxPush = 64 << 10

// Authorization is an authorization event WeChat pushes when an Official
// Account authorizes the platform, changes what it authorized, or
// revokes the authorization.
type Authorization struct {
	// InfoType is InfoAuthorized, InfoUpdateAuthorized or InfoUnauthorized.
	InfoType string
	// AuthorizerAppID is the Official Account's appid.
	AuthorizerAppID string
	// AuthorizationCode is the code api_query_auth takes (empty for
	// unauthorized). It is a credential: do not log it.
	AuthorizationCode string
	// AuthorizationCodeExpiry is when AuthorizationCode expires; zero when
	// none was given.
	AuthorizationCodeExpiry time.Time
	// PreAuthCode is the pre-authorization code the authorization went
	// through, if any.
	PreAuthCode string
	// Time is the push's CreateTime.
	Time time.Time
	// PermissionSets are the ids of the permission sets the account
	// granted, as [Platform.QueryAuth] returned them to the PushHandler
	// (authorized, updateauthorized); nil otherwise.
	PermissionSets []int
}

// envelope is the outer XML of a push.
type envelope struct {
	AppID      string `xml:"AppId"`
	ToUserName string `xml:"ToUserName"`
	Encrypt    string `xml:"Encrypt"`
}

// message is the decrypted XML of a system push.
type message struct {
	AppID                        string `xml:"AppId"`
	CreateTime                   int64  `xml:"CreateTime"`
	InfoType                     string `xml:"InfoType"`
	ComponentVerifyTicket        string `xml:"ComponentVerifyTicket"`
	AuthorizerAppID              string `xml:"AuthorizerAppid"`
	AuthorizationCode            string `xml:"AuthorizationCode"`
	AuthorizationCodeExpiredTime int64  `xml:"AuthorizationCodeExpiredTime"`
	PreAuthCode                  string `xml:"PreAuthCode"`
}

// PushHandler returns the handler to mount at the platform's
// 授权事件接收URL. For each POST it checks msg_signature (never the
// plain signature), decrypts the message, checks the component appid
// inside, and then stores a component_verify_ticket in Options.Tickets,
// or handles an authorization event: for authorized and updateauthorized
// it redeems the event's authorization code with [Platform.QueryAuth],
// which stores the account's refresh token in Options.Authorizers; for
// unauthorized it deletes the refresh token and drops the account's
// cached credentials; then it hands the event to Options.OnAuthorization.
// It answers "success". When storing or deleting fails, or
// OnAuthorization does, it answers HTTP 500 and logs why (never the
// code), and WeChat pushes again. A push it refuses gets a 4xx and a log line naming the
// reason, and leaves the stored ticket alone: 403 for a wrong
// msg_signature or another platform's appid, 400 for a body that is not a
// push or does not decrypt, 409 for a ticket pushed before the stored
// one or an authorization event created more than ten minutes from now
// (a replay), 405 for a method other than POST. The stored ticket pushed
// again (a duplicate or a replay) gets "success" and changes nothing: it
// does not lift the back-off after WeChat refused that ticket.
func (p *Platform) PushHandler() http.Handler { return http.HandlerFunc(p.servePush) }

// pushWindow is how far an authorization event's CreateTime may lie from
// this server's clock: WeChat pushes at once and retries within seconds.
const pushWindow = 10 * time.Minute

func (p *Platform) servePush(w http.ResponseWriter, r *http.Request) {
	refuse := func(status int, reason string, attrs ...any) {
		p.log.LogAttrs(r.Context(), slog.LevelWarn, "component: push refused",
			append([]slog.Attr{slog.String("reason", reason), slog.String("remote", r.RemoteAddr)}, attrsOf(attrs)...)...)
		http.Error(w, "component: push refused: "+reason, status)
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		refuse(http.StatusMethodNotAllowed, "method "+r.Method+", want POST")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxPush+1))
	if err != nil {
		refuse(http.StatusBadRequest, "reading the body failed")
		return
	}
	if len(body) > maxPush {
		refuse(http.StatusRequestEntityTooLarge, "body larger than 64 KiB")
		return
	}
	var env envelope
	if err := xml.Unmarshal(body, &env); err != nil || env.Encrypt == "" {
		refuse(http.StatusBadRequest, "body is not an encrypted push (<xml><Encrypt>…</Encrypt></xml>)")
		return
	}
	q := r.URL.Query()
	plain, err := p.crypto.Decrypt(q.Get("msg_signature"), q.Get("timestamp"), q.Get("nonce"), env.Encrypt)
	switch {
	case errors.Is(err, ErrSignature):
		refuse(http.StatusForbidden, "msg_signature does not match: the Token differs from the platform's 消息校验Token, or the push is not WeChat's")
		return
	case errors.Is(err, ErrAppID):
		refuse(http.StatusForbidden, "the message is for another component appid")
		return
	case err != nil:
		refuse(http.StatusBadRequest, "the message does not decrypt: the EncodingAESKey differs from the platform's 消息加解密Key, or the body is garbage")
		return
	}
	var m message
	if err := xml.Unmarshal(plain, &m); err != nil {
		refuse(http.StatusBadRequest, "the decrypted message is not XML")
		return
	}
	if m.AppID != "" && m.AppID != p.opts.AppID {
		refuse(http.StatusForbidden, "the message's AppId is another component appid")
		return
	}
	at := time.Unix(m.CreateTime, 0)
	if m.CreateTime <= 0 {
		at = p.opts.Now()
	}
	switch m.InfoType {
	case InfoVerifyTicket:
		if m.ComponentVerifyTicket == "" {
			refuse(http.StatusBadRequest, "component_verify_ticket push without a ticket")
			return
		}
		if cur, err := p.tickets.LoadTicket(r.Context()); err == nil && cur.Value == m.ComponentVerifyTicket {
			// The stored ticket pushed again (WeChat's duplicate, or a
			// replay): nothing changes, and a back-off from WeChat's
			// refusal of that very ticket stays.
			break
		}
		saved, err := p.tickets.SaveTicket(r.Context(), Ticket{Value: m.ComponentVerifyTicket, Time: at})
		if err != nil {
			p.log.LogAttrs(r.Context(), slog.LevelError, "component: storing the verify ticket failed", slog.String("error", err.Error()))
			http.Error(w, "component: storing the verify ticket failed", http.StatusInternalServerError)
			return
		}
		if !saved {
			refuse(http.StatusConflict, "the ticket was pushed before the stored one (a replayed push)", "create_time", at.UTC().Format(time.RFC3339))
			return
		}
		// A new ticket may cure a back-off from 61005 or 61006.
		if b, ok := p.opts.Credentials.Cache.(mp.BackoffCache); ok {
			_ = b.ClearFailure(r.Context())
		}
	case InfoAuthorized, InfoUpdateAuthorized, InfoUnauthorized:
		a := Authorization{InfoType: m.InfoType, AuthorizerAppID: m.AuthorizerAppID,
			AuthorizationCode: m.AuthorizationCode, PreAuthCode: m.PreAuthCode, Time: at}
		if m.AuthorizationCodeExpiredTime > 0 {
			a.AuthorizationCodeExpiry = time.Unix(m.AuthorizationCodeExpiredTime, 0)
		}
		if a.AuthorizerAppID == "" {
			refuse(http.StatusBadRequest, m.InfoType+" push without AuthorizerAppid")
			return
		}
		// The CreateTime is under the signature: a captured event
		// replayed later than pushWindow is refused, not handed on.
		if age := p.opts.Now().Sub(at); m.CreateTime > 0 && (age > pushWindow || age < -pushWindow) {
			refuse(http.StatusConflict, "the event was created "+age.Round(time.Second).String()+" ago, outside the "+pushWindow.String()+" a push may take (a replayed push, or this server's clock is off)", "create_time", at.UTC().Format(time.RFC3339))
			return
		}
		key := eventKey(m)
		if seen, err := p.handled.Handled(r.Context(), key); err != nil {
			p.log.LogAttrs(r.Context(), slog.LevelError, "component: reading the handled pushes failed; WeChat will push again",
				slog.String("info_type", a.InfoType), slog.String("authorizer_appid", a.AuthorizerAppID), slog.String("error", err.Error()))
			http.Error(w, "component: the authorization event was not handled", http.StatusInternalServerError)
			return
		} else if seen {
			// WeChat's duplicate, or a replay: acknowledged, not acted on
			// again (a replayed "unauthorized" would delete the refresh
			// token of an account that authorized again since).
			p.log.LogAttrs(r.Context(), slog.LevelInfo, "component: authorization event handled already; acknowledged without acting on it",
				slog.String("info_type", a.InfoType), slog.String("authorizer_appid", a.AuthorizerAppID))
			break
		}
		if err := p.handleAuthorization(r.Context(), &a); err != nil {
			p.log.LogAttrs(r.Context(), slog.LevelError, "component: keeping the authorizer's refresh token failed; WeChat will push again",
				slog.String("info_type", a.InfoType), slog.String("authorizer_appid", a.AuthorizerAppID), slog.String("error", err.Error()))
			http.Error(w, "component: the authorization event was not handled", http.StatusInternalServerError)
			return
		}
		if p.opts.OnAuthorization != nil {
			if err := p.opts.OnAuthorization(r.Context(), a); err != nil {
				p.log.LogAttrs(r.Context(), slog.LevelError, "component: OnAuthorization failed; WeChat will push again",
					slog.String("info_type", a.InfoType), slog.String("authorizer_appid", a.AuthorizerAppID), slog.String("error", err.Error()))
				http.Error(w, "component: the authorization event was not handled", http.StatusInternalServerError)
				return
			}
		}
		if err := p.handled.MarkHandled(r.Context(), key, 2*pushWindow); err != nil {
			p.log.LogAttrs(r.Context(), slog.LevelWarn, "component: remembering a handled push failed; a duplicate of it would be acted on again",
				slog.String("info_type", a.InfoType), slog.String("authorizer_appid", a.AuthorizerAppID), slog.String("error", err.Error()))
		}
	default:
		p.log.LogAttrs(r.Context(), slog.LevelInfo, "component: push of an InfoType not handled", slog.String("info_type", m.InfoType))
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, "success")
}

// attrsOf turns key, value pairs of strings into attributes.
func attrsOf(kv []any) []slog.Attr {
	var out []slog.Attr
	for i := 0; i+1 < len(kv); i += 2 {
		k, _ := kv[i].(string)
		out = append(out, slog.Any(k, kv[i+1]))
	}
	return out
}
