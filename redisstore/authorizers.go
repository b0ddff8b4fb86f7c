package redisstore

import (
	"context"
	"fmt"

	"github.com/gomodule/redigo/redis"
	"github.com/wechatauth/wechatauth/component"
)

// Authorizers returns a [component.AuthorizerStore] that keeps the
// authorizer_refresh_token of each Official Account that authorized the
// platform componentAppID, for every instance on this Redis. A refresh
// token is at prefix + "authorizer_refresh_token:" + componentAppID + ":"
// + authorizer appid, with no expiry: WeChat issues it only when the
// account authorizes, and it lasts until the account revokes the
// authorization. Keep this Redis persistent (RDB or AOF): a refresh token
// lost means asking the account to authorize again.
func (s *Store) Authorizers(componentAppID string) component.AuthorizerStore {
	return &authorizers{s: s, prefix: s.Prefix + "authorizer_refresh_token:" + componentAppID + ":"}
}

type authorizers struct {
	s      *Store
	prefix string
}

func (a *authorizers) LoadRefreshToken(ctx context.Context, appID string) (string, error) {
	v, err := redis.String(a.s.do(ctx, "GET", a.prefix+appID))
	if err != nil {
		return "", readError(fmt.Sprintf("the refresh token of authorizer %q", appID), err)
	}
	return v, nil
}

func (a *authorizers) SaveRefreshToken(ctx context.Context, appID, refreshToken string) error {
	if appID == "" || refreshToken == "" {
		return fmt.Errorf("redisstore: saving the refresh token of authorizer %q: empty appid or refresh token", appID)
	}
	if _, err := a.s.do(ctx, "SET", a.prefix+appID, refreshToken); err != nil {
		return fmt.Errorf("redisstore: saving the refresh token of authorizer %q: %w", appID, err)
	}
	return nil
}

func (a *authorizers) DeleteRefreshToken(ctx context.Context, appID string) error {
	if _, err := a.s.do(ctx, "DEL", a.prefix+appID); err != nil {
		return fmt.Errorf("redisstore: deleting the refresh token of authorizer %q: %w", appID, err)
	}
	return nil
}
