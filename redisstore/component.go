package redisstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gomodule/redigo/redis"
	"github.com/wechatauth/wechatauth/component"
)

// componentTicketTTL is how long Redis keeps a verify ticket: past the
// 12 hours WeChat accepts it, so that a platform whose pushes stopped is
// told its ticket is stale rather than missing.
const componentTicketTTL = 2 * component.TicketTTL

// ComponentTickets returns a [component.TicketStore] that shares the
// latest component_verify_ticket of the platform componentAppID between
// every instance on this Redis: WeChat pushes the ticket to one instance
// only. The ticket is at prefix + "component_verify_ticket:" +
// componentAppID, as "<push time in Unix milliseconds> <ticket>", for 24
// hours; a save compares the push times in Redis, atomically, so that an
// older push never replaces a newer ticket.
func (s *Store) ComponentTickets(componentAppID string) component.TicketStore {
	return &componentTickets{s: s, key: s.Prefix + "component_verify_ticket:" + componentAppID,
		handled: s.Prefix + "component_push_handled:" + componentAppID + ":"}
}

type componentTickets struct {
	s       *Store
	key     string
	handled string // the prefix of handled pushes' keys
}

func (c *componentTickets) LoadTicket(ctx context.Context) (component.Ticket, error) {
	v, err := redis.String(c.s.do(ctx, "GET", c.key))
	if err != nil {
		return component.Ticket{}, readError("the component verify ticket", err)
	}
	ms, value, ok := strings.Cut(v, " ")
	at, err := strconv.ParseInt(ms, 10, 64)
	if !ok || err != nil || value == "" {
		return component.Ticket{}, fmt.Errorf("redisstore: reading the component verify ticket: the stored value is not one")
	}
	return component.Ticket{Value: value, Time: time.UnixMilli(at)}, nil
}

// saveIfNewer sets KEYS[1] to ARGV[2] for ARGV[3] milliseconds unless it
// holds a ticket pushed after ARGV[1] (Unix milliseconds); 1 when set.
var saveIfNewer = redis.NewScript(1, `
local v = redis.call('GET', KEYS[1])
if v then
  local sp = string.find(v, ' ', 1, true)
  if sp and tonumber(string.sub(v, 1, sp - 1)) > tonumber(ARGV[1]) then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. ARGV[2], 'PX', ARGV[3])
return 1`)

func (c *componentTickets) SaveTicket(ctx context.Context, t component.Ticket) (bool, error) {
	if t.Value == "" || strings.Contains(t.Value, " ") {
		return false, fmt.Errorf("redisstore: saving the component verify ticket: empty or malformed")
	}
	conn, err := c.s.pool.GetContext(ctx)
	if err != nil {
		return false, fmt.Errorf("redisstore: saving the component verify ticket: %w", err)
	}
	defer conn.Close()
	n, err := redis.Int(saveIfNewer.DoContext(ctx, conn, c.key, t.Time.UnixMilli(), t.Value, componentTicketTTL.Milliseconds()))
	if err != nil {
		return false, fmt.Errorf("redisstore: saving the component verify ticket: %w", err)
	}
	return n == 1, nil
}

// handledKey is where a handled push's key is kept.
func (c *componentTickets) handledKey(key string) string {
	return c.handled + key
}

// Handled implements component.HandledPushes, for every instance on this
// Redis.
func (c *componentTickets) Handled(ctx context.Context, key string) (bool, error) {
	n, err := redis.Int(c.s.do(ctx, "EXISTS", c.handledKey(key)))
	if err != nil {
		return false, fmt.Errorf("redisstore: reading the handled pushes: %w", err)
	}
	return n == 1, nil
}

// MarkHandled implements component.HandledPushes.
func (c *componentTickets) MarkHandled(ctx context.Context, key string, ttl time.Duration) error {
	if _, err := c.s.do(ctx, "SET", c.handledKey(key), "1", "PX", millis(ttl)); err != nil {
		return fmt.Errorf("redisstore: remembering a handled push: %w", err)
	}
	return nil
}

var _ component.HandledPushes = (*componentTickets)(nil)
