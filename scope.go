package wechatauth

// Scope is the authorization scope a login asks WeChat for.
type Scope string

const (
	// ScopeBase (snsapi_base) is silent: one round trip, the openid only.
	ScopeBase Scope = "snsapi_base"
	// ScopeUserInfo (snsapi_userinfo) also gets the profile (nickname,
	// avatar, unionid). WeChat asks for consent where it applies.
	ScopeUserInfo Scope = "snsapi_userinfo"
	// ScopeProgressive asks for no more than it needs: a silent snsapi_base
	// round trip first, which logs a known user with a fresh profile in at
	// once; only an unknown user or a stale profile is sent on through
	// snsapi_userinfo. Returning users never see a consent screen, and
	// WeChat's snapshot page, shown to pages that ask for snsapi_userinfo as
	// soon as they open, is avoided.
	ScopeProgressive Scope = "progressive"
)

// wire returns the scope of the first round trip of a login.
func (s Scope) wire() Scope {
	if s == ScopeProgressive {
		return ScopeBase
	}
	return s
}
