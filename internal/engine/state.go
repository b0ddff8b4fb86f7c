package engine

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
)

// A state is 192 random bits and a 128-bit MAC of them, 80 hex digits,
// within WeChat's limit of 128 characters from [A-Za-z0-9]: the callback
// can tell a state this site issued from one made up, without a store.
const (
	stateBytes = 24
	stateMAC   = 16
)

// validState reports whether s has the shape of a state this package issues.
func validState(s string) bool { return isHex(s, 2*(stateBytes+stateMAC)) }

// validNonce reports whether s has the shape of a login's nonce.
func validNonce(s string) bool { return isHex(s, 2*stateBytes) }

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// states mints and checks the states of one site, under a key every
// instance shares.
type states struct{ key []byte }

// mint returns a fresh state: random bits and their MAC.
func (st states) mint() string {
	random := newNonce()
	return random + st.mac(random)
}

// issued reports whether state carries the MAC of this site's key.
func (st states) issued(state string) bool {
	if !validState(state) {
		return false
	}
	random, mac := state[:2*stateBytes], state[2*stateBytes:]
	return subtle.ConstantTimeCompare([]byte(mac), []byte(st.mac(random))) == 1
}

func (st states) mac(random string) string {
	m := hmac.New(sha256.New, st.key)
	m.Write([]byte(random))
	return hex.EncodeToString(m.Sum(nil)[:stateMAC])
}

// newNonce returns 192 random bits as 48 hex digits.
func newNonce() string {
	b := make([]byte, stateBytes)
	rand.Read(b) // never fails (crypto/rand panics rather than return an error)
	return hex.EncodeToString(b)
}
