// Package redisstore keeps wechatauth's users, web-auth tokens and callback
// records in Redis, so that every instance of an application behind a load
// balancer sees the same logins: a user who logs in through one instance is
// known to the others, and a callback that WeChat delivers twice, to two
// instances, still causes one code exchange.
//
// A [*Store] implements [wechatauth.UserStore], [wechatauth.TokenStore]
// and [wechatauth.CallbackStore] on a redigo pool. It is the Redis
// counterpart of [wechatauth.MemoryStore]; sessions go to Redis through
// scs's own store, [github.com/alexedwards/scs/redisstore]. Both packages
// are called redisstore, so import scs's under another name:
//
//	import (
//		"github.com/alexedwards/scs/v2"
//		scsredis "github.com/alexedwards/scs/redisstore"
//		"github.com/gomodule/redigo/redis"
//		"github.com/wechatauth/wechatauth"
//		"github.com/wechatauth/wechatauth/redisstore"
//	)
//
//	pool := &redis.Pool{
//		MaxIdle:     16,
//		IdleTimeout: 4 * time.Minute,
//		DialContext: func(ctx context.Context) (redis.Conn, error) {
//			return redis.DialContext(ctx, "tcp", "redis.internal:6379",
//				redis.DialConnectTimeout(2*time.Second),
//				redis.DialReadTimeout(2*time.Second),
//				redis.DialWriteTimeout(2*time.Second))
//		},
//		// Drop connections that went stale while idle (a Redis restart).
//		TestOnBorrow: func(c redis.Conn, lastUsed time.Time) error {
//			if time.Since(lastUsed) < time.Minute {
//				return nil
//			}
//			_, err := c.Do("PING")
//			return err
//		},
//	}
//	sessions := scs.New()
//	sessions.Store = scsredis.New(pool)
//	store := redisstore.New(pool)
//	auth, err := wechatauth.New(wechatauth.Options{
//		// AppID, AppSecret, CallbackURL as usual
//		Sessions:  sessions,
//		Users:     store,
//		Tokens:    store,
//		Callbacks: store,
//	})
//	if err != nil {
//		log.Fatal(err)
//	}
//	sessions.ErrorFunc = auth.SessionStoreError // Redis down: the Auth's error page, not scs's bare 500
//
// # Keys
//
// Every key starts with [Store.Prefix] ("wechatauth:" unless changed):
//
//	prefix + "user:" + openid    a user, JSON; no expiry unless Store.UserTTL is set
//	prefix + "token:" + openid   a user's web-auth tokens, JSON; expire after 30 days, the refresh token's life
//	prefix + "unionid:" + id     the openid last saved with that unionid; same expiry as users
//	prefix + "login:" + key      a callback claim ("") or record, keyed by a hash of the state or "code:" and
//	                             a hash of a second code; expires after the ttl the Auth passes (Options.StateTTL)
//	prefix + "access_token:" + appid       the global access_token; expires with it
//	prefix + "jsapi_ticket:" + appid       the JS-SDK's jsapi_ticket; expires with it
//	prefix + kind + "_lock:" + account     a credential's refresh lock; expires after mp.CredentialOptions.LockTTL
//	prefix + kind + "_backoff:" + account  the back-off after a failed fetch, JSON; expires mp.MaxBackoff after it ends
//	prefix + kind + "_renew:" + account    the interval between renewals asked for from outside (the
//	                                       jsapi_ticket's after "invalid signature"); expires with it
//
// The last five rows are the keys of [Store.CredentialCache], which keeps
// every account-wide credential the same way: the credential of a kind
// (an [mp.CredentialKind]) for an account is at prefix + kind + ":" +
// account, beside its lock, back-off and renewal interval. For mp's two,
// kind is "access_token" or "jsapi_ticket" and account the Official
// Account's AppID.
//
// Users are a table: one key per person who ever logged in (and one per
// unionid), kept until deleted or, with [Store.UserTTL], until that long after
// they were last saved or read (a login reads them). Everything else expires on
// its own, so nothing but the user table grows without bound.
//
// Every call takes the request's context ([redis.Pool.GetContext],
// [redis.DoContext]),
// so a request's deadline bounds its Redis round trips. Errors start with
// "redisstore: ", wrap the cause, and never hold a token. A key that does
// not exist gives an error wrapping [wechatauth.ErrNotFound]; Redis being
// unreachable never does, so an outage is not mistaken for a new user.
package redisstore
