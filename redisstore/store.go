package redisstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/gomodule/redigo/redis"
	"github.com/wechatauth/wechatauth"
	"github.com/wechatauth/wechatauth/mp"
)

// DefaultPrefix is the Prefix of a Store made by New.
const DefaultPrefix = "wechatauth:"

// TokenTTL is how long a user's web-auth tokens are kept after SaveToken:
// the life of WeChat's refresh token. Past it the tokens are useless, and
// the user must authorize again.
const TokenTTL = 30 * 24 * time.Hour

// Compile-time checks that Store implements the wechatauth store interfaces.
var (
	_ wechatauth.UserStore     = (*Store)(nil)
	_ wechatauth.TokenStore    = (*Store)(nil)
	_ wechatauth.CallbackStore = (*Store)(nil)
	_ wechatauth.UserStore     = (*Store)(nil)
)

// Store keeps users, web-auth tokens and callback records in Redis, shared
// by every instance that uses the same Redis and Prefix. Make it with New;
// set its fields, if at all, before the first call. It is safe for
// concurrent use.
type Store struct {
	// Prefix starts every key the Store reads or writes, so that several
	// applications can share one Redis. Default DefaultPrefix, "wechatauth:".
	Prefix string
	// UserTTL is how long a user is kept after it was last saved or read.
	// Default 0: users are kept until deleted, as a table of everyone who
	// ever logged in. A user forgotten this way is simply new again at the
	// next login. It needs Redis 6.2 or later (GETEX).
	UserTTL time.Duration

	pool *redis.Pool
}

// New returns a Store on pool with Prefix "wechatauth:" and no UserTTL.
// It never contacts Redis: a Redis that is down or misaddressed shows at
// the first call that needs it (in an app, the first login's callback
// answers 503). Call Ping at start to find out before serving.
func New(pool *redis.Pool) *Store {
	return &Store{Prefix: DefaultPrefix, pool: pool}
}

// Ping checks, within ctx, that the pool reaches a Redis that answers: the
// check to make at start, since New contacts nobody. Its error says what
// to check; it holds the cause (for a refused connection, the address the
// pool dials) but nothing the pool was given as a secret, as long as the
// pool's dialer puts none in its own errors.
func (s *Store) Ping(ctx context.Context) error {
	_, err := s.do(ctx, "PING")
	if err == nil {
		return nil
	}
	const check = "check that Redis is running at the address the pool dials, that this host reaches it (firewall, network, TLS), and the password the pool sends"
	if text := err.Error(); userinfo.MatchString(text) {
		// A dialer given a URL (redis.DialURL) may quote it, password and
		// all, in its error: keep the text without it, and drop the chain.
		return fmt.Errorf("redisstore: Redis does not answer PING: %s; %s", userinfo.ReplaceAllString(text, "${1}…@"), check)
	}
	return fmt.Errorf("redisstore: Redis does not answer PING: %w; %s", err, check)
}

// userinfo matches the user and password of a URL, such as a Redis URL
// "redis://user:password@host:6379", after its scheme.
var userinfo = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*:(?://)?)[^/@"]*@`)

// user is a wechatauth.User as stored. The conversions between the two stop
// compiling when wechatauth.User gains a field: add it here too.
type user struct {
	OpenID     string    `json:"openid"`
	UnionID    string    `json:"unionid,omitempty"`
	Nickname   string    `json:"nickname,omitempty"`
	HeadImgURL string    `json:"headimgurl,omitempty"`
	UpdatedAt  time.Time `json:"updated_at"`
	Snapshot   bool      `json:"snapshot,omitempty"`
	AppID      string    `json:"appid,omitempty"`
}

// token is a mp.Token as v0.1.0 stored it, kept in step with mp.Token
// like user: records of that format are still read.
type token struct {
	AccessToken  string    `json:"access_token"`
	RefreshToken string    `json:"refresh_token"`
	Expiry       time.Time `json:"expiry"`
	OpenID       string    `json:"openid"`
	UnionID      string    `json:"unionid,omitempty"`
	Scope        string    `json:"scope,omitempty"`
	AppID        string    `json:"appid,omitempty"`
	Snapshot     bool      `json:"snapshot,omitempty"`
}

// compactToken is a mp.Token as stored now: short keys, the expiry in Unix
// seconds, the openid left to the key.
type compactToken struct {
	AccessToken  string `json:"a"`
	RefreshToken string `json:"r"`
	Expiry       int64  `json:"e"`
	UnionID      string `json:"u,omitempty"`
	Scope        string `json:"s,omitempty"`
	AppID        string `json:"p,omitempty"`
	Snapshot     bool   `json:"x,omitempty"`
}

func compact(t mp.Token) compactToken {
	_ = token(t) // stops compiling when mp.Token gains a field: store it too
	return compactToken{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, Expiry: t.Expiry.Unix(),
		UnionID: t.UnionID, Scope: t.Scope, AppID: t.AppID, Snapshot: t.Snapshot}
}

func (c compactToken) token(openID string) mp.Token {
	return mp.Token{AccessToken: c.AccessToken, RefreshToken: c.RefreshToken, Expiry: time.Unix(c.Expiry, 0).UTC(),
		OpenID: openID, UnionID: c.UnionID, Scope: c.Scope, AppID: c.AppID, Snapshot: c.Snapshot}
}

// User implements wechatauth.UserStore. With UserTTL set, reading a user
// also renews its expiry.
func (s *Store) User(ctx context.Context, openID string) (wechatauth.User, error) {
	var u user
	if err := s.getJSON(ctx, s.userKey(openID), s.UserTTL, &u, fmt.Sprintf("user %q", openID)); err != nil {
		return wechatauth.User{}, err
	}
	return wechatauth.User(u), nil
}

// SaveUser implements wechatauth.UserStore.
func (s *Store) SaveUser(ctx context.Context, u wechatauth.User) error {
	b, err := json.Marshal(user(u))
	if err != nil {
		return fmt.Errorf("redisstore: saving user %q: %w", u.OpenID, err)
	}
	args := []any{s.userKey(u.OpenID), b}
	if s.UserTTL > 0 {
		args = append(args, "PX", millis(s.UserTTL))
	}
	if _, err := s.do(ctx, "SET", args...); err != nil {
		return fmt.Errorf("redisstore: saving user %q: %w", u.OpenID, err)
	}
	if u.UnionID != "" {
		args = append([]any{s.unionIDKey(u.UnionID), u.OpenID}, args[2:]...)
		if _, err := s.do(ctx, "SET", args...); err != nil {
			return fmt.Errorf("redisstore: saving the unionid of user %q: %w", u.OpenID, err)
		}
	}
	return nil
}

// UserByUnionID implements wechatauth.UserStore: the user last saved
// with unionID.
func (s *Store) UserByUnionID(ctx context.Context, unionID string) (wechatauth.User, error) {
	openID, err := redis.String(s.do(ctx, "GET", s.unionIDKey(unionID)))
	if err != nil {
		return wechatauth.User{}, readError(fmt.Sprintf("user with unionid %q", unionID), err)
	}
	u, err := s.User(ctx, openID)
	if err == nil && u.UnionID != unionID {
		err = fmt.Errorf("redisstore: user with unionid %q: %w", unionID, mp.ErrNotFound)
	}
	return u, err
}

// Token implements wechatauth.TokenStore.
func (s *Store) Token(ctx context.Context, openID string) (mp.Token, error) {
	var raw json.RawMessage
	what := fmt.Sprintf("the tokens of %q", openID)
	if err := s.getJSON(ctx, s.tokenKey(openID), 0, &raw, what); err != nil {
		return mp.Token{}, err
	}
	var t compactToken
	var old token // a record of v0.1.0's
	v, compacted := any(&t), true
	if bytes.Contains(raw, []byte(`"access_token"`)) {
		v, compacted = &old, false
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return mp.Token{}, fmt.Errorf("redisstore: reading %s: the stored value is not one", what)
	}
	if !compacted {
		return mp.Token(old), nil
	}
	return t.token(openID), nil
}

// SaveToken implements wechatauth.TokenStore. The tokens expire from Redis
// TokenTTL (30 days) after the save.
func (s *Store) SaveToken(ctx context.Context, t mp.Token) error {
	b, err := json.Marshal(compact(t))
	if err != nil {
		return fmt.Errorf("redisstore: saving the tokens of %q: %w", t.OpenID, err)
	}
	if _, err := s.do(ctx, "SET", s.tokenKey(t.OpenID), b, "PX", millis(TokenTTL)); err != nil {
		return fmt.Errorf("redisstore: saving the tokens of %q: %w", t.OpenID, err)
	}
	return nil
}

// Claim implements wechatauth.CallbackStore with SET NX PX, atomic across
// every instance on the same Redis. ttl must be positive.
func (s *Store) Claim(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if ttl <= 0 {
		return false, fmt.Errorf("redisstore: claiming callback %q: ttl must be positive, got %v", key, ttl)
	}
	_, err := redis.String(s.do(ctx, "SET", s.callbackKey(key), "", "NX", "PX", millis(ttl)))
	switch {
	case errors.Is(err, redis.ErrNil): // held or finished by someone else
		return false, nil
	case err != nil:
		return false, fmt.Errorf("redisstore: claiming callback %q: %w", key, err)
	}
	return true, nil
}

// Record implements wechatauth.CallbackStore. A claim is stored as an empty
// value, a finished callback as its record.
func (s *Store) Record(ctx context.Context, key string) ([]byte, error) {
	b, err := redis.Bytes(s.do(ctx, "GET", s.callbackKey(key)))
	switch {
	case err != nil:
		return nil, readError(fmt.Sprintf("callback %q", key), err)
	case len(b) == 0: // claimed, not finished
		return nil, nil
	}
	return b, nil
}

// Finish implements wechatauth.CallbackStore: a non-empty record replaces
// the claim for ttl (which must then be positive); an empty one deletes it.
func (s *Store) Finish(ctx context.Context, key string, record []byte, ttl time.Duration) error {
	if len(record) == 0 {
		if _, err := s.do(ctx, "DEL", s.callbackKey(key)); err != nil {
			return fmt.Errorf("redisstore: dropping the claim on callback %q: %w", key, err)
		}
		return nil
	}
	if ttl <= 0 {
		return fmt.Errorf("redisstore: finishing callback %q: ttl must be positive, got %v", key, ttl)
	}
	if _, err := s.do(ctx, "SET", s.callbackKey(key), record, "PX", millis(ttl)); err != nil {
		return fmt.Errorf("redisstore: finishing callback %q: %w", key, err)
	}
	return nil
}

func (s *Store) userKey(openID string) string  { return s.Prefix + "user:" + openID }
func (s *Store) tokenKey(openID string) string { return s.Prefix + "token:" + openID }
func (s *Store) unionIDKey(id string) string   { return s.Prefix + "unionid:" + id }
func (s *Store) callbackKey(key string) string { return s.Prefix + "login:" + key }

// getJSON reads the JSON under key into v, renewing the key's expiry to
// renew when that is positive (GETEX, Redis 6.2). what names the value in
// errors.
func (s *Store) getJSON(ctx context.Context, key string, renew time.Duration, v any, what string) error {
	args := []any{key}
	cmd := "GET"
	if renew > 0 {
		cmd, args = "GETEX", append(args, "PX", millis(renew))
	}
	b, err := redis.Bytes(s.do(ctx, cmd, args...))
	if err != nil {
		return readError(what, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		// json's message may quote the value, tokens and all: leave it out.
		return fmt.Errorf("redisstore: reading %s: the stored value is not one", what)
	}
	return nil
}

// readError turns the error of reading what into the stores' contract: a
// missing key wraps ErrNotFound; anything else is a failure of Redis.
func readError(what string, err error) error {
	if errors.Is(err, redis.ErrNil) {
		return fmt.Errorf("redisstore: %s: %w", what, mp.ErrNotFound)
	}
	return fmt.Errorf("redisstore: reading %s: %w", what, err)
}

// do runs one command on a connection of the pool, within ctx.
func (s *Store) do(ctx context.Context, cmd string, args ...any) (any, error) {
	c, err := s.pool.GetContext(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return redis.DoContext(c, ctx, cmd, args...)
}

// millis is d in whole milliseconds for PX, at least 1.
func millis(d time.Duration) int64 {
	return max(int64((d+time.Millisecond-1)/time.Millisecond), 1)
}
