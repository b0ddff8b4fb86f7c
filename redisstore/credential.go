package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gomodule/redigo/redis"
	"github.com/wechatauth/wechatauth/mp"
)

// CredentialCache returns an [mp.CredentialCache] that shares the
// credential of the given kind that belongs to account (an Official
// Account's AppID, say) between every instance on this Redis, for the
// sources of package [mp] and any other source of an account-wide
// credential:
//
//	tokens := mp.NewAccessTokenSource(client, mp.CredentialOptions{
//		Cache: store.CredentialCache(mp.AccessTokenCredential, client.AppID),
//	})
//	tickets := mp.NewTicketSource(client, tokens, mp.CredentialOptions{
//		Cache: store.CredentialCache(mp.JSAPITicketCredential, client.AppID),
//	})
//
// The cache is an [mp.BackoffCache] and an [mp.RenewLimiter]. Its keys:
// prefix + kind + ":" + account holds the credential until its expiry;
// prefix + kind + "_lock:" + account is the refresh lock, which expires on
// its own if its holder dies; prefix + kind + "_backoff:" + account holds
// the back-off after a failed fetch, for at most [mp.MaxBackoff] past its
// end; and prefix + kind + "_renew:" + account is the interval between
// renewals asked for from outside (the jsapi_ticket's after "invalid
// signature"), which expires with the interval. The access_token of the
// account wxApp is at "wechatauth:access_token:wxApp", where v0.1.0 kept
// it: a deployment that upgrades finds the credentials it cached.
//
// It panics if kind is not lower-case letters, digits and underscores, or
// could be mistaken for the store's own keys or another kind's: "user",
// "token", "unionid", "login", or a name ending in "_lock", "_backoff" or
// "_renew".
func (s *Store) CredentialCache(kind mp.CredentialKind, account string) mp.CredentialCache {
	if err := checkKind(kind); err != nil {
		panic("redisstore: Store.CredentialCache: " + err.Error())
	}
	k := s.Prefix + string(kind)
	return &credentialCache{s: s, what: strings.ReplaceAll(string(kind), "_", " "),
		key: k + ":" + account, lock: k + "_lock:" + account,
		backoff: k + "_backoff:" + account, renew: k + "_renew:" + account}
}

// checkKind reports why kind cannot name a credential's keys, if it
// cannot.
func checkKind(kind mp.CredentialKind) error {
	if kind == "" {
		return errors.New("empty credential kind")
	}
	for _, r := range kind {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '_' {
			return fmt.Errorf("credential kind %q: want lower-case letters, digits and underscores", kind)
		}
	}
	switch kind {
	case "user", "token", "unionid", "login":
		return fmt.Errorf("credential kind %q: the store keeps its own keys under it", kind)
	}
	for _, suffix := range []string{"_lock", "_backoff", "_renew"} {
		if strings.HasSuffix(string(kind), suffix) {
			return fmt.Errorf("credential kind %q: ends in %q, as another kind's keys do", kind, suffix)
		}
	}
	return nil
}

// AccessTokenCache returns the cache of the access_token of the account
// appID, the one [Store.CredentialCache] returns for
// [mp.AccessTokenCredential] and appID, on the same keys.
//
// Deprecated: use [Store.CredentialCache] with [mp.AccessTokenCredential].
func (s *Store) AccessTokenCache(appID string) mp.CredentialCache {
	return s.CredentialCache(mp.AccessTokenCredential, appID)
}

// TicketCache returns the cache of the jsapi_ticket of the account appID,
// the one [Store.CredentialCache] returns for [mp.JSAPITicketCredential]
// and appID, on the same keys.
//
// Deprecated: use [Store.CredentialCache] with [mp.JSAPITicketCredential].
func (s *Store) TicketCache(appID string) mp.CredentialCache {
	return s.CredentialCache(mp.JSAPITicketCredential, appID)
}

// Compile-time checks of the optional interfaces of the credential caches.
var (
	_ mp.BackoffCache = (*credentialCache)(nil)
	_ mp.RenewLimiter = (*credentialCache)(nil)
)

// credentialCache is an mp.CredentialCache on one key and its siblings:
// the lock, the back-off and the renewal interval.
type credentialCache struct {
	s                               *Store
	what, key, lock, backoff, renew string
}

// A credential is stored as "<expiry in Unix milliseconds> <value>":
// WeChat's tokens and tickets hold no space.

func (c *credentialCache) Load(ctx context.Context) (mp.Credential, error) {
	v, err := redis.String(c.s.do(ctx, "GET", c.key))
	if err != nil {
		return mp.Credential{}, readError("the "+c.what, err)
	}
	ms, value, ok := strings.Cut(v, " ")
	exp, err := strconv.ParseInt(ms, 10, 64)
	if !ok || err != nil || value == "" {
		return mp.Credential{}, fmt.Errorf("redisstore: reading the %s: the stored value is not one", c.what)
	}
	return mp.Credential{Value: value, Expiry: time.UnixMilli(exp)}, nil
}

func (c *credentialCache) Save(ctx context.Context, cred mp.Credential) error {
	ttl := time.Until(cred.Expiry)
	if ttl <= 0 || cred.Value == "" || strings.Contains(cred.Value, " ") {
		return fmt.Errorf("redisstore: saving the %s: expired or malformed", c.what)
	}
	v := strconv.FormatInt(cred.Expiry.UnixMilli(), 10) + " " + cred.Value
	if _, err := c.s.do(ctx, "SET", c.key, v, "PX", millis(ttl)); err != nil {
		return fmt.Errorf("redisstore: saving the %s: %w", c.what, err)
	}
	return nil
}

// deleteIfToken drops KEYS[1] when its value part is ARGV[1].
var deleteIfToken = redis.NewScript(1, `
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, string.find(v, ' ', 1, true) + 1) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`)

func (c *credentialCache) Delete(ctx context.Context, value string) error {
	if err := c.script(ctx, deleteIfToken, c.key, value); err != nil {
		return fmt.Errorf("redisstore: dropping the %s: %w", c.what, err)
	}
	return nil
}

// deleteIfValue drops KEYS[1] when it still holds ARGV[1].
var deleteIfValue = redis.NewScript(1, `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`)

func (c *credentialCache) TryLock(ctx context.Context, ttl time.Duration) (func(context.Context) error, error) {
	b := make([]byte, 16)
	rand.Read(b)
	id := hex.EncodeToString(b)
	_, err := redis.String(c.s.do(ctx, "SET", c.lock, id, "NX", "PX", millis(ttl)))
	if errors.Is(err, redis.ErrNil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("redisstore: taking the %s lock: %w", c.what, err)
	}
	return func(ctx context.Context) error {
		if err := c.script(ctx, deleteIfValue, c.lock, id); err != nil {
			return fmt.Errorf("redisstore: releasing the %s lock: %w", c.what, err)
		}
		return nil
	}, nil
}

func (c *credentialCache) script(ctx context.Context, s *redis.Script, key, arg string) error {
	conn, err := c.s.pool.GetContext(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	_, err = s.DoContext(ctx, conn, key, arg)
	return err
}

// failure is an mp.Failure as stored, in JSON.
type failure struct {
	Code     int    `json:"code,omitempty"`
	Msg      string `json:"msg"`
	Endpoint string `json:"endpoint,omitempty"`
	Count    int    `json:"count"`
	Until    int64  `json:"until"` // Unix milliseconds
}

// LoadFailure implements mp.BackoffCache.
func (c *credentialCache) LoadFailure(ctx context.Context) (mp.Failure, error) {
	var f failure
	if err := c.s.getJSON(ctx, c.backoff, 0, &f, "the back-off of the "+c.what); err != nil {
		return mp.Failure{}, err
	}
	return mp.Failure{Code: f.Code, Msg: f.Msg, Endpoint: f.Endpoint, Count: f.Count, Until: time.UnixMilli(f.Until)}, nil
}

// SaveFailure implements mp.BackoffCache: the failure is kept until
// mp.MaxBackoff past its Until.
func (c *credentialCache) SaveFailure(ctx context.Context, f mp.Failure) error {
	b, err := json.Marshal(failure{Code: f.Code, Msg: f.Msg, Endpoint: f.Endpoint, Count: f.Count, Until: f.Until.UnixMilli()})
	if err != nil {
		return fmt.Errorf("redisstore: saving the back-off of the %s: %w", c.what, err)
	}
	if _, err := c.s.do(ctx, "SET", c.backoff, b, "PX", millis(time.Until(f.Until)+mp.MaxBackoff)); err != nil {
		return fmt.Errorf("redisstore: saving the back-off of the %s: %w", c.what, err)
	}
	return nil
}

// ClearFailure implements mp.BackoffCache.
func (c *credentialCache) ClearFailure(ctx context.Context) error {
	if _, err := c.s.do(ctx, "DEL", c.backoff); err != nil {
		return fmt.Errorf("redisstore: clearing the back-off of the %s: %w", c.what, err)
	}
	return nil
}

// AllowRenew implements mp.RenewLimiter with SET NX PX on one key, atomic
// across every instance on the same Redis: the first caller sets the key
// for interval, and every other caller finds it until it expires.
func (c *credentialCache) AllowRenew(ctx context.Context, interval time.Duration) (bool, error) {
	_, err := redis.String(c.s.do(ctx, "SET", c.renew, "", "NX", "PX", millis(interval)))
	switch {
	case errors.Is(err, redis.ErrNil):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("redisstore: the renewal interval of the %s: %w", c.what, err)
	}
	return true, nil
}
