package component

import (
	"context"
	"sync"
	"time"

	"github.com/wechatauth/wechatauth/mp"
)

// TicketTTL is how long WeChat accepts a component_verify_ticket after
// pushing it.
const TicketTTL = 12 * time.Hour

// Ticket is a component_verify_ticket with the time WeChat pushed it
// (the push's CreateTime).
type Ticket struct {
	Value string
	Time  time.Time
}

// TicketStore keeps the latest component_verify_ticket where every
// instance of the platform finds it. [NewMemoryTicketStore] serves one
// process; [github.com/wechatauth/wechatauth/redisstore.Store.ComponentTickets]
// shares it through Redis.
type TicketStore interface {
	// LoadTicket returns the latest ticket. When there is none the error
	// wraps mp.ErrNotFound.
	LoadTicket(ctx context.Context) (Ticket, error)
	// SaveTicket stores t unless the stored ticket was pushed later, and
	// reports whether it stored t: a replayed older push never replaces
	// a newer ticket. A push with the same time replaces it.
	SaveTicket(ctx context.Context, t Ticket) (saved bool, err error)
}

// NewMemoryTicketStore returns a [TicketStore] for one process.
func NewMemoryTicketStore() TicketStore { return &memoryTickets{} }

type memoryTickets struct {
	mu sync.Mutex
	t  Ticket
}

func (m *memoryTickets) LoadTicket(context.Context) (Ticket, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.t.Value == "" {
		return Ticket{}, mp.ErrNotFound
	}
	return m.t, nil
}

func (m *memoryTickets) SaveTicket(_ context.Context, t Ticket) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.t.Value != "" && m.t.Time.After(t.Time) {
		return false, nil
	}
	m.t = t
	return true, nil
}
