package jssdk

import (
	"errors"
	"strings"

	"github.com/wechatauth/wechatauth/mp"
)

// maxRefusedOrigins bounds the origins a Signer remembers having refused,
// so that a client that sends ever new origins cannot grow it.
const maxRefusedOrigins = 64

// refusedOrigin logs, at warn level, the first refusal of a page of
// origin, which is not one of Options.Origins: for a page of this site the
// fix is a setting, and the page alone hears of it otherwise. Once
// maxRefusedOrigins origins have been logged, one more line says so and
// further origins go unlogged.
func (s *Signer) refusedOrigin(origin string) {
	s.logMu.Lock()
	if s.refused[origin] || len(s.refused) > maxRefusedOrigins {
		s.logMu.Unlock()
		return
	}
	full := len(s.refused) == maxRefusedOrigins
	s.refused[origin] = true
	s.logMu.Unlock()
	if full {
		s.o.Logger.Warn("jssdk: pages of more origins not in Options.Origins were refused; no more of them are logged", "origins_logged", maxRefusedOrigins)
		return
	}
	s.o.Logger.Warn("jssdk: refused to sign a page of an origin not in Options.Origins; if the page is this site's, add the origin to jssdk.Options.Origins (and its host to the JS安全域名 on WeChat's settings page); if not, ignore this",
		"origin", origin, "allowed", strings.Join(s.originList, ", "))
}

// failed logs why the ticket of k could not be had, once for a run of the
// same failure: a hundred pages asking while WeChat refuses make one line.
func (s *Signer) failed(k *ticketKind, err error) {
	key := k.name + ": " + failureKey(err)
	s.logMu.Lock()
	same := s.failing && key == s.failure
	s.failing, s.failure = true, key
	s.failures++
	s.failingFlag.Store(true)
	s.logMu.Unlock()
	if !same {
		s.o.Logger.Error(k.noneLog, "err", err)
	}
}

// recovered logs, once, that the tickets are back after failures.
func (s *Signer) recovered() {
	if !s.failingFlag.Load() {
		return
	}
	s.logMu.Lock()
	n := s.failures
	was := s.failing
	s.failing, s.failure, s.failures = false, "", 0
	s.failingFlag.Store(false)
	s.logMu.Unlock()
	if was && s.wecom {
		s.o.Logger.Info("jssdk: WeCom's tickets are available again", "failed_requests", n)
	} else if was {
		s.o.Logger.Info("jssdk: the jsapi_ticket is available again", "failed_requests", n)
	}
}

// failureKey names a failure for failed: what WeChat or the transport
// said, whether a source fetched and failed or is backing off after that
// failure.
func failureKey(err error) string {
	var be *mp.BackoffError
	if errors.As(err, &be) {
		return be.Err.Error()
	}
	var e *mp.Error
	if errors.As(err, &e) {
		return e.Error()
	}
	var r mp.Refusal
	if errors.As(err, &r) {
		return r.Error()
	}
	var te *ticketError
	if errors.As(err, &te) {
		err = te.err
	}
	if inner := errors.Unwrap(err); inner != nil {
		return inner.Error()
	}
	return err.Error()
}
