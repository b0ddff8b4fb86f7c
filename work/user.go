package work

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/wechatauth/wechatauth/mp"
)

// UserTicketLife is how long a user ticket lasts after the code's
// exchange when WeCom does not say: read the [Detail] within it, in the
// callback.
const UserTicketLife = 1800 * time.Second

// Identity is who came back from [Client.AuthorizeURL] or
// [Client.WebLoginURL], as WeCom's auth/getuserinfo tells: a member of the
// corp (UserID set), or someone who is not (OpenID set): WeCom gives one
// or the other. Each ID is unique within the corp only; keep them apart,
// as a member's userid and a stranger's openid may look alike.
type Identity struct {
	// UserID is a member's userid, as WeCom gives it. A member of a
	// linked corp (互联企业) or of an upstream/downstream corp (上下游)
	// arrives as "CorpId/userid": see [Identity.LinkedCorp]. Empty for a
	// non-member.
	UserID string
	// OpenID is the corp's own ID of a non-member, such as someone who
	// opened the link in personal WeChat. Empty for a member.
	OpenID string
	// ExternalUserID is set for a non-member who is a customer of the corp
	// (外部联系人) whose follow-up member is in the app's visible range.
	ExternalUserID string
	// UserTicket, for [Client.UserDetail], comes only with a
	// ScopePrivateInfo login from inside the WeCom client, for a member of
	// the corp in the app's visible range; never from the Web login or
	// for a linked corp's member. It is a credential: keep it out of
	// sessions, logs and pages.
	UserTicket string
	// UserTicketExpiry is when UserTicket stops working (its life is
	// [UserTicketLife]); zero without a ticket.
	UserTicketExpiry time.Time
}

// LinkedCorp splits the UserID of a member of a linked or an
// upstream/downstream corp, "CorpId/userid", into that corp's ID and the
// member's userid there, with ok true. For a member of the app's own corp,
// and for a non-member, ok is false. [Client.User] reads only members of
// the app's own corp.
func (id Identity) LinkedCorp() (corpID, userID string, ok bool) {
	corpID, userID, ok = strings.Cut(id.UserID, "/")
	if !ok || corpID == "" || userID == "" {
		return "", "", false
	}
	return corpID, userID, true
}

// identityReply is auth/getuserinfo's reply. Its keys are lower-case; the
// legacy user/getuserinfo's CamelCase keys (UserId, OpenId) are not read,
// so a reply in that shape is an error, never an empty ID.
type identityReply struct {
	apiStatus
	UserID         string `json:"userid"`
	OpenID         string `json:"openid"`
	ExternalUserID string `json:"external_userid"`
	UserTicket     string `json:"user_ticket"`
	ExpiresIn      int64  `json:"expires_in"`
}

// UserInfo trades the code of a callback for the user's [Identity] (GET
// /cgi-bin/auth/getuserinfo) with a corp access_token from tokens, which
// must be the app's that built the link (else [CodeUntrustedDomain]). A
// code works once, within 5 minutes: a second trade gives
// [CodeInvalidCode] ([Error.SpentCode]). A stale token is replaced and
// the call made once more.
func (c *Client) UserInfo(ctx context.Context, tokens mp.AccessTokenSource, code string) (Identity, error) {
	const endpoint = "/cgi-bin/auth/getuserinfo"
	reply, err := withToken(ctx, tokens, func(token string, r *identityReply) error {
		return c.get(ctx, endpoint, query{"access_token", token, "code", code}, r)
	})
	if err != nil {
		return Identity{}, err
	}
	if reply.UserID == "" && reply.OpenID == "" {
		return Identity{}, incomplete(endpoint, "userid or openid")
	}
	id := Identity{UserID: reply.UserID, OpenID: reply.OpenID, ExternalUserID: reply.ExternalUserID, UserTicket: reply.UserTicket}
	if id.UserTicket != "" {
		life := UserTicketLife
		if reply.ExpiresIn > 0 {
			life = time.Duration(reply.ExpiresIn) * time.Second
		}
		id.UserTicketExpiry = c.clock().Add(life)
	}
	return id, nil
}

// Detail is a member's sensitive fields, as WeCom's auth/getuserdetail
// gives them after the member consented on the page of a
// [ScopePrivateInfo] login. Each field is real only if the admin ticked
// it in the app's settings and the member consented; otherwise it is
// empty, or a default (Avatar) or "0" (Gender). There is no name: it
// comes from [Client.User].
type Detail struct {
	UserID  string
	Gender  string // "0" undefined, "1" male, "2" female
	Avatar  string // URL of the avatar
	QRCode  string // URL of the member's QR code
	Mobile  string
	Email   string
	BizMail string // the corp mailbox
	Address string
}

// text is a JSON string that also accepts a number, as a field WeCom
// documents as a string (gender) might once arrive.
type text string

func (t *text) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] != '"' {
		var n json.Number
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		if err := d.Decode(&n); err != nil {
			return err
		}
		*t = text(n)
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	*t = text(s)
	return nil
}

type detailReply struct {
	apiStatus
	UserID  string `json:"userid"`
	Gender  text   `json:"gender"`
	Avatar  string `json:"avatar"`
	QRCode  string `json:"qr_code"`
	Mobile  string `json:"mobile"`
	Email   string `json:"email"`
	BizMail string `json:"biz_mail"`
	Address string `json:"address"`
}

// UserDetail reads a member's sensitive fields (POST
// /cgi-bin/auth/getuserdetail, body {"user_ticket": …}) with the
// Identity.UserTicket of a [ScopePrivateInfo] login, within its
// [UserTicketLife], and a corp access_token from tokens. A stale token is
// replaced and the call made once more. WeCom's errcode for a ticket too
// old is not documented: treat any [*Error] as "log in without the
// detail".
func (c *Client) UserDetail(ctx context.Context, tokens mp.AccessTokenSource, userTicket string) (Detail, error) {
	const endpoint = "/cgi-bin/auth/getuserdetail"
	body := struct {
		UserTicket string `json:"user_ticket"`
	}{userTicket}
	reply, err := withToken(ctx, tokens, func(token string, r *detailReply) error {
		return c.post(ctx, endpoint, query{"access_token", token}, body, []string{userTicket}, r)
	})
	if err != nil {
		return Detail{}, err
	}
	if reply.UserID == "" {
		return Detail{}, incomplete(endpoint, "userid")
	}
	return Detail{
		UserID:  reply.UserID,
		Gender:  string(reply.Gender),
		Avatar:  reply.Avatar,
		QRCode:  reply.QRCode,
		Mobile:  reply.Mobile,
		Email:   reply.Email,
		BizMail: reply.BizMail,
		Address: reply.Address,
	}, nil
}

// Member is a member of the corp as WeCom's user/get gives it to a
// self-built app: who they are in the directory. Apps created after
// 2022-06-20 get no avatar, gender, mobile, email or address here (those
// come from [Client.UserDetail] with the member's consent), so Member has
// none.
type Member struct {
	UserID         string
	Name           string
	Alias          string
	Department     []int64 // the IDs of the member's departments
	MainDepartment int64   // the ID of the main department
	Position       string  // job title
	// Status is 1 active, 2 disabled, 4 not yet activated, 5 left the
	// corp.
	Status     int
	OpenUserID string // the member's ID for a third-party provider; empty for most self-built apps
}

type memberReply struct {
	apiStatus
	UserID         string  `json:"userid"`
	Name           string  `json:"name"`
	Alias          string  `json:"alias"`
	Department     []int64 `json:"department"`
	MainDepartment int64   `json:"main_department"`
	Position       string  `json:"position"`
	Status         int     `json:"status"`
	OpenUserID     string  `json:"open_userid"`
}

// User reads the member userID of the app's own corp (GET
// /cgi-bin/user/get) with a corp access_token from tokens. The member
// must be in the app's visible range (可见范围). A stale token is replaced
// and the call made once more.
func (c *Client) User(ctx context.Context, tokens mp.AccessTokenSource, userID string) (Member, error) {
	const endpoint = "/cgi-bin/user/get"
	reply, err := withToken(ctx, tokens, func(token string, r *memberReply) error {
		return c.get(ctx, endpoint, query{"access_token", token, "userid", userID}, r)
	})
	if err != nil {
		return Member{}, err
	}
	if reply.UserID == "" {
		return Member{}, incomplete(endpoint, "userid")
	}
	return Member{
		UserID:         reply.UserID,
		Name:           reply.Name,
		Alias:          reply.Alias,
		Department:     reply.Department,
		MainDepartment: reply.MainDepartment,
		Position:       reply.Position,
		Status:         reply.Status,
		OpenUserID:     reply.OpenUserID,
	}, nil
}

// withToken makes call with a corp access_token from tokens, and once
// more with a fresh one when WeCom calls the first stale
// ([mp.WithAccessToken]), each time into a fresh reply, so that nothing
// of a refused try stays in the one returned.
func withToken[R any](ctx context.Context, tokens mp.AccessTokenSource, call func(token string, reply *R) error) (R, error) {
	var reply R
	err := mp.WithAccessToken(ctx, tokens, func(token string) error {
		var fresh R
		reply = fresh
		return call(token, &reply)
	})
	return reply, err
}

// incomplete is the error of a reply without the fields a call needs.
func incomplete(endpoint, missing string) error {
	return fmt.Errorf("work: %s: reply without %s: %w", endpoint, missing, mp.ErrUpstream)
}
