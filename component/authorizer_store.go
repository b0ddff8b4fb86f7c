package component

import (
	"context"
	"fmt"
	"sync"

	"github.com/wechatauth/wechatauth/mp"
)

// AuthorizerStore keeps the authorizer_refresh_token of each Official
// Account that authorized the platform, by the account's appid (the
// authorizer appid). WeChat issues a refresh token only when the account
// authorizes the platform, and it lasts until the account revokes the
// authorization: a lost one means asking the account to authorize again.
// [NewMemoryAuthorizerStore] serves one process and forgets on restart;
// [github.com/wechatauth/wechatauth/redisstore.Store.Authorizers] keeps
// them in Redis for every instance.
//
// A refresh token is a credential: an implementation must not log it.
type AuthorizerStore interface {
	// LoadRefreshToken returns the refresh token of the authorizer. When
	// none is stored the error wraps mp.ErrNotFound.
	LoadRefreshToken(ctx context.Context, authorizerAppID string) (string, error)
	// SaveRefreshToken stores the refresh token of the authorizer in
	// place of the one stored.
	SaveRefreshToken(ctx context.Context, authorizerAppID, refreshToken string) error
	// DeleteRefreshToken forgets the refresh token of the authorizer; it
	// is no error when none is stored.
	DeleteRefreshToken(ctx context.Context, authorizerAppID string) error
}

// NewMemoryAuthorizerStore returns an [AuthorizerStore] for one process.
// Its refresh tokens are gone when the process ends, and with them the
// authorizer tokens until each account authorizes again: in production
// use a store that lasts, such as redisstore's Store.Authorizers.
func NewMemoryAuthorizerStore() AuthorizerStore {
	return &memoryAuthorizers{tokens: make(map[string]string)}
}

type memoryAuthorizers struct {
	mu     sync.Mutex
	tokens map[string]string
}

func (m *memoryAuthorizers) LoadRefreshToken(_ context.Context, appID string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tokens[appID]
	if !ok {
		return "", fmt.Errorf("component: the refresh token of authorizer %q: %w", appID, mp.ErrNotFound)
	}
	return t, nil
}

func (m *memoryAuthorizers) SaveRefreshToken(_ context.Context, appID, refreshToken string) error {
	if appID == "" || refreshToken == "" {
		return fmt.Errorf("component: saving the refresh token of authorizer %q: empty appid or refresh token", appID)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tokens[appID] = refreshToken
	return nil
}

func (m *memoryAuthorizers) DeleteRefreshToken(_ context.Context, appID string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.tokens, appID)
	return nil
}
