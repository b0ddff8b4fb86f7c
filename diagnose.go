package wechatauth

import "github.com/wechatauth/wechatauth/internal/engine"

// warnSetup logs, at New, the setups of o that work in a test and fail in
// production, each with its fix. They are warnings rather than errors:
// tests and local setups that map an https CallbackURL onto a plain-http
// server, or run one instance on a shared session store, are legitimate.
func warnSetup(o Options, e *engine.Engine[User]) {
	log := o.Logger
	if !o.DebugBypass && o.DebugUser != (User{}) {
		log.Debug("wechatauth: Options.DebugUser is set but DebugBypass is off, so it is ignored: nobody is logged in without WeChat", "debug_user", o.DebugUser.OpenID)
	}
	e.WarnSetup()
	if !e.MemorySessions() {
		var inMemory []string
		for _, s := range []struct {
			name  string
			store any
		}{{"Users", o.Users}, {"Tokens", o.Tokens}, {"Callbacks", o.Callbacks}} {
			if _, mem := s.store.(*MemoryStore); mem {
				inMemory = append(inMemory, s.name)
			}
		}
		if len(inMemory) > 0 {
			log.Warn("wechatauth: Options.Sessions.Store is shared, but Options."+joinNames(inMemory)+" in this process's memory, so instances disagree about users and logins; share them too: store := redisstore.New(pool), then Users, Tokens and Callbacks: store",
				"in_memory", inMemory)
		}
	}
}

// joinNames writes names as "A", "A is" ... : "A, B and C are".
func joinNames(names []string) string {
	if len(names) == 1 {
		return names[0] + " is"
	}
	s := names[0]
	for i, n := range names[1:] {
		if i == len(names)-2 {
			s += " and " + n
		} else {
			s += ", " + n
		}
	}
	return s + " are"
}
