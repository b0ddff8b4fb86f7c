package wecom

// Member is who logged in through WeCom, as WeCom tells it: a member of
// the corp (IsMember), known by a userid, or someone who is not, known by
// an openid of the corp's own. WeCom gives one or the other, never both,
// and each is unique within the corp only: a member's userid and a
// stranger's openid are kept in separate fields and never stand in for
// each other.
type Member struct {
	// UserID is a member's userid, unique within their corp. For a member
	// of a linked corp (互联企业) or an upstream/downstream corp (上下游),
	// whom WeCom names "CorpId/userid", it is the userid part, and CorpID
	// holds the corp. Empty for a non-member.
	UserID string
	// CorpID is the corp of a member of a linked corp; empty for a member
	// of the app's own corp and for a non-member.
	CorpID string
	// OpenID is a non-member's ID, such as someone who opened the link in
	// personal WeChat: unique within the corp, and unrelated to any
	// Official Account's openid. Empty for a member.
	OpenID string
	// ExternalUserID is set for a non-member who is a customer of the
	// corp (外部联系人), when WeCom gives it.
	ExternalUserID string

	// Name and Department (the IDs of the member's departments) come from
	// WeCom's user/get when Options.Profile is set, for members of the
	// app's own corp; empty otherwise, or when the call failed.
	Name       string
	Department []int64

	// Private holds the member's sensitive fields, fetched in the
	// callback of a ScopePrivateInfo login from inside the WeCom client
	// (within the 1800 s of its user_ticket), as far as the admin allowed
	// them and the member consented. Zero for every other login, for a
	// linked corp's member, and when the fetch failed (which the log
	// says); HasPrivate tells.
	Private Private
}

// Private is a member's sensitive fields (WeCom's auth/getuserdetail).
// Each is real only if the app's admin ticked it and the member consented
// on WeCom's page; otherwise it is empty, a default picture (Avatar) or
// "0" (Gender). There is no name here: it comes with Options.Profile.
type Private struct {
	Gender  string // "0" undefined, "1" male, "2" female
	Avatar  string // URL of the avatar
	QRCode  string // URL of the member's QR code (名片二维码)
	Mobile  string
	Email   string
	BizMail string // the corp mailbox
	Address string
}

// IsMember reports whether m is a member of the corp, or of a linked
// corp (UserID set), rather than a non-member (OpenID set).
func (m Member) IsMember() bool { return m.UserID != "" }

// Linked reports whether m is a member of a linked or an
// upstream/downstream corp (CorpID set), not of the app's own.
func (m Member) Linked() bool { return m.UserID != "" && m.CorpID != "" }

// HasPrivate reports whether m carries the sensitive fields of a
// ScopePrivateInfo login.
func (m Member) HasPrivate() bool { return m.Private != (Private{}) }

// ID returns the one string that names m, distinct for every kind of
// person: the userid of a member of the app's own corp, "CorpId/userid"
// for a member of a linked corp (as WeCom writes it), and "openid:" and
// the openid for a non-member. It is what the log and Event name.
func (m Member) ID() string {
	switch {
	case m.UserID == "":
		if m.OpenID == "" {
			return ""
		}
		return openIDPrefix + m.OpenID
	case m.CorpID != "":
		return m.CorpID + "/" + m.UserID
	}
	return m.UserID
}

// openIDPrefix marks a non-member's openid in an ID: ':' is in neither
// userids nor openids, so no ID of a member can look like one.
const openIDPrefix = "openid:"
