package component

import (
	"crypto/hmac"
	"crypto/sha256"

	"github.com/wechatauth/wechatauth/mp"
)

// ComponentAppID returns the platform's component appid. With Token and
// Invalidate it makes the Platform an [mp.Component]: an [mp.Client]
// whose Component is the Platform logs users in for the Official Account
// of its AppID, an authorizer of the platform (component mode), and so
// does wechatauth's Options.Component.
func (p *Platform) ComponentAppID() string { return p.opts.AppID }

var _ mp.Component = (*Platform)(nil)

// DeriveKey returns a key for purpose derived from the platform's
// AppSecret, the same on every instance and unknown to anyone without
// the secret, which it does not reveal: wechatauth's component mode keys
// its login states with it.
func (p *Platform) DeriveKey(purpose string) []byte {
	m := hmac.New(sha256.New, []byte(p.opts.AppSecret))
	m.Write([]byte("component key: " + purpose))
	return m.Sum(nil)
}
