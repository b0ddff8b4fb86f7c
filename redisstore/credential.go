package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gomodule/redigo/redis"
	"github.com/wechatauth/wechatauth/mp"
)

// AccessTokenCache returns an mp.CredentialCache that shares the
// access_token of the account appID between every instance on this Redis,
// for mp.NewAccessTokenSource:
//
//	ts := mp.NewAccessTokenSource(client, mp.AccessTokenSourceOptions{
//		Cache: store.AccessTokenCache(client.AppID),
//	})
//
// Keys: prefix + "access_token:" + appID holds the token until its expiry;
// prefix + "access_token_lock:" + appID is the refresh lock, which expires
// on its own if its holder dies.
func (s *Store) AccessTokenCache(appID string) mp.CredentialCache {
	return s.credentialCache("access token", "access_token:"+appID, "access_token_lock:"+appID)
}

// TicketCache returns an mp.CredentialCache that shares the JS-SDK's
// jsapi_ticket of the account appID between every instance on this Redis,
// for mp.NewTicketSource:
//
//	tickets := mp.NewTicketSource(client, tokens, mp.TicketSourceOptions{
//		Cache: store.TicketCache(client.AppID),
//	})
//
// Keys: prefix + "jsapi_ticket:" + appID holds the ticket until its expiry;
// prefix + "jsapi_ticket_lock:" + appID is the refresh lock, which expires
// on its own if its holder dies.
func (s *Store) TicketCache(appID string) mp.CredentialCache {
	return s.credentialCache("jsapi ticket", "jsapi_ticket:"+appID, "jsapi_ticket_lock:"+appID)
}

func (s *Store) credentialCache(what, key, lock string) *credentialCache {
	return &credentialCache{s: s, what: what, key: s.Prefix + key, lock: s.Prefix + lock}
}

// credentialCache is an mp.CredentialCache on one key and its lock key.
type credentialCache struct {
	s               *Store
	what, key, lock string
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
