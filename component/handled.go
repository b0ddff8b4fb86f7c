package component

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"sync"
	"time"
)

// HandledPushes remembers the authorization events a platform has
// handled, so that a duplicate (WeChat pushes some twice) or a replay
// within the ten minutes an event is accepted is acknowledged without
// acting on it again: a replayed "unauthorized" would otherwise delete
// the refresh token of an account that authorized the platform again
// since. A [TicketStore] that also implements it shares the memory
// between instances (redisstore's Store.ComponentTickets does); otherwise
// each Platform keeps its own. Keys are opaque and URL-safe.
type HandledPushes interface {
	// Handled reports whether an event under key was handled.
	Handled(ctx context.Context, key string) (bool, error)
	// MarkHandled remembers key as handled for ttl.
	MarkHandled(ctx context.Context, key string, ttl time.Duration) error
}

// eventKey is the key of an authorization event: a hash of its signed
// fields, the same for WeChat's duplicates and for replays.
func eventKey(m message) string {
	sum := sha256.Sum256([]byte(m.InfoType + "\x00" + m.AuthorizerAppID + "\x00" + strconv.FormatInt(m.CreateTime, 10) +
		"\x00" + m.AuthorizationCode + "\x00" + m.PreAuthCode))
	return hex.EncodeToString(sum[:16])
}

// memoryHandled is HandledPushes for one process.
type memoryHandled struct {
	now  func() time.Time
	mu   sync.Mutex
	keys map[string]time.Time // key → until
}

// maxHandled bounds the memory: past it, expired keys are dropped, then
// the oldest.
const maxHandled = 4096

func (m *memoryHandled) Handled(_ context.Context, key string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	until, ok := m.keys[key]
	return ok && m.now().Before(until), nil
}

func (m *memoryHandled) MarkHandled(_ context.Context, key string, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if m.keys == nil {
		m.keys = make(map[string]time.Time)
	}
	if len(m.keys) >= maxHandled {
		var oldest string
		for k, until := range m.keys {
			if !now.Before(until) {
				delete(m.keys, k)
			} else if oldest == "" || until.Before(m.keys[oldest]) {
				oldest = k
			}
		}
		if len(m.keys) >= maxHandled {
			delete(m.keys, oldest)
		}
	}
	m.keys[key] = now.Add(ttl)
	return nil
}
