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
	"github.com/wechatauth/wechatauth"
)

// AccessTokenCache returns a wechatauth.AccessTokenCache that shares the
// global access_token of the account appID between every instance on this
// Redis, for wechatauth.NewTokenSource:
//
//	ts := wechatauth.NewTokenSource(client, wechatauth.TokenSourceOptions{
//		Cache: store.AccessTokenCache(client.AppID),
//	})
//
// Keys: prefix + "access_token:" + appID holds the token until its expiry;
// prefix + "access_token_lock:" + appID is the refresh lock, which expires
// on its own (TokenSourceOptions.LockTTL) if its holder dies.
func (s *Store) AccessTokenCache(appID string) wechatauth.AccessTokenCache {
	return &accessTokenCache{s: s, key: s.Prefix + "access_token:" + appID, lock: s.Prefix + "access_token_lock:" + appID}
}

type accessTokenCache struct {
	s         *Store
	key, lock string
}

// The token is stored as "<expiry in Unix milliseconds> <token>": WeChat's
// tokens hold no space.

func (c *accessTokenCache) Load(ctx context.Context) (wechatauth.AccessToken, error) {
	v, err := redis.String(c.s.do(ctx, "GET", c.key))
	if errors.Is(err, redis.ErrNil) {
		return wechatauth.AccessToken{}, fmt.Errorf("redisstore: access token: %w", wechatauth.ErrNotFound)
	}
	if err != nil {
		return wechatauth.AccessToken{}, fmt.Errorf("redisstore: reading the access token: %w", err)
	}
	ms, token, ok := strings.Cut(v, " ")
	exp, err := strconv.ParseInt(ms, 10, 64)
	if !ok || err != nil || token == "" {
		return wechatauth.AccessToken{}, errors.New("redisstore: reading the access token: the stored value is not a token")
	}
	return wechatauth.AccessToken{Token: token, Expiry: time.UnixMilli(exp)}, nil
}

func (c *accessTokenCache) Save(ctx context.Context, t wechatauth.AccessToken) error {
	ttl := time.Until(t.Expiry)
	if ttl <= 0 || t.Token == "" || strings.Contains(t.Token, " ") {
		return errors.New("redisstore: saving the access token: expired or malformed")
	}
	v := strconv.FormatInt(t.Expiry.UnixMilli(), 10) + " " + t.Token
	if _, err := c.s.do(ctx, "SET", c.key, v, "PX", millis(ttl)); err != nil {
		return fmt.Errorf("redisstore: saving the access token: %w", err)
	}
	return nil
}

// deleteIfToken drops KEYS[1] when its token part is ARGV[1].
var deleteIfToken = redis.NewScript(1, `
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, string.find(v, ' ', 1, true) + 1) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`)

func (c *accessTokenCache) Delete(ctx context.Context, token string) error {
	if err := c.script(ctx, deleteIfToken, c.key, token); err != nil {
		return fmt.Errorf("redisstore: dropping the access token: %w", err)
	}
	return nil
}

// deleteIfValue drops KEYS[1] when it still holds ARGV[1].
var deleteIfValue = redis.NewScript(1, `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`)

func (c *accessTokenCache) TryLock(ctx context.Context, ttl time.Duration) (func(context.Context) error, error) {
	b := make([]byte, 16)
	rand.Read(b)
	id := hex.EncodeToString(b)
	_, err := redis.String(c.s.do(ctx, "SET", c.lock, id, "NX", "PX", millis(ttl)))
	if errors.Is(err, redis.ErrNil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("redisstore: taking the access token lock: %w", err)
	}
	return func(ctx context.Context) error {
		if err := c.script(ctx, deleteIfValue, c.lock, id); err != nil {
			return fmt.Errorf("redisstore: releasing the access token lock: %w", err)
		}
		return nil
	}, nil
}

func (c *accessTokenCache) script(ctx context.Context, s *redis.Script, key, arg string) error {
	conn, err := c.s.pool.GetContext(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	_, err = s.DoContext(ctx, conn, key, arg)
	return err
}
