package component

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Errors of [Crypto.Decrypt], for errors.Is: each names what was wrong
// with a push, never the push's content.
var (
	// ErrSignature: msg_signature does not match the token, timestamp,
	// nonce and encrypted text.
	ErrSignature = errors.New("component: msg_signature does not match (wrong Token, or not a push from WeChat)")
	// ErrAppID: the message decrypted, but the appid inside is not ours.
	ErrAppID = errors.New("component: the appid inside the message is not the component appid")
	// ErrCiphertext: the encrypted text is not base64, not whole blocks,
	// or its padding or layout is broken (wrong EncodingAESKey, or
	// garbage).
	ErrCiphertext = errors.New("component: the encrypted text does not decrypt (wrong EncodingAESKey, or garbage)")
)

// blockPad is the block size of the scheme's PKCS#7 padding: 32 bytes,
// not AES's 16.
const blockPad = 32

// Crypto is WeChat's message crypto (the WXBizMsgCrypt scheme) for one
// third-party platform: pushes to its 授权事件接收URL are AES-256-CBC
// encrypted with the key of EncodingAESKey and signed with Token. Set
// the three fields as on the platform's settings page. A Crypto is safe
// for concurrent use.
type Crypto struct {
	// Token is the message-check Token (消息校验Token).
	Token string
	// EncodingAESKey is the 43-character message key (消息加解密Key).
	EncodingAESKey string
	// AppID is the component appid, which ends every message.
	AppID string
	// PreviousEncodingAESKey is the key before the platform's last change
	// of EncodingAESKey, if any: a message that does not decrypt with
	// EncodingAESKey is tried with it, so that pushes sent before the
	// change still arrive. Encrypt never uses it.
	PreviousEncodingAESKey string
}

// key returns the AES key of EncodingAESKey: the base64 of the 43
// characters and one "=", 32 bytes.
func (c Crypto) key() ([]byte, error) {
	if len(c.EncodingAESKey) != 43 {
		return nil, fmt.Errorf("component: EncodingAESKey has %d characters, want 43", len(c.EncodingAESKey))
	}
	k, err := base64.StdEncoding.DecodeString(c.EncodingAESKey + "=")
	if err != nil || len(k) != 32 {
		return nil, errors.New("component: EncodingAESKey is not 43 characters of base64 giving 32 bytes")
	}
	return k, nil
}

// Signature returns msg_signature: the SHA-1, in lower-case hex, of
// Token, timestamp, nonce and encrypted sorted and joined.
func (c Crypto) Signature(timestamp, nonce, encrypted string) string {
	parts := []string{c.Token, timestamp, nonce, encrypted}
	sort.Strings(parts)
	sum := sha1.Sum([]byte(strings.Join(parts, "")))
	return hex.EncodeToString(sum[:])
}

// Decrypt checks msgSignature over timestamp, nonce and encrypted (the
// Encrypt of the push's XML), decrypts encrypted and returns the
// message, after checking that the appid it ends with is c.AppID. Its
// errors wrap [ErrSignature], [ErrCiphertext] or [ErrAppID].
func (c Crypto) Decrypt(msgSignature, timestamp, nonce, encrypted string) ([]byte, error) {
	want := c.Signature(timestamp, nonce, encrypted)
	if subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(msgSignature))) != 1 {
		return nil, ErrSignature
	}
	msg, err := c.open(c.EncodingAESKey, encrypted)
	if err != nil && c.PreviousEncodingAESKey != "" && (errors.Is(err, ErrCiphertext) || errors.Is(err, ErrAppID)) {
		if prev, perr := c.open(c.PreviousEncodingAESKey, encrypted); perr == nil {
			return prev, nil
		}
	}
	return msg, err
}

// open decrypts encrypted with the key of encodingAESKey and checks the
// appid it ends with.
func (c Crypto) open(encodingAESKey, encrypted string) ([]byte, error) {
	key, err := Crypto{EncodingAESKey: encodingAESKey}.key()
	if err != nil {
		return nil, err
	}
	msg, appID, err := open(key, encrypted)
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare(appID, []byte(c.AppID)) != 1 {
		return nil, ErrAppID
	}
	return msg, nil
}

// open decrypts encrypted with key and splits the plaintext into the
// message and the trailing appid.
func open(key []byte, encrypted string) (msg, appID []byte, err error) {
	ct, err := base64.StdEncoding.DecodeString(encrypted)
	if err != nil || len(ct) == 0 || len(ct)%aes.BlockSize != 0 {
		return nil, nil, ErrCiphertext
	}
	block, _ := aes.NewCipher(key) // a 32-byte key never fails
	plain := make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, key[:aes.BlockSize]).CryptBlocks(plain, ct)
	pad := int(plain[len(plain)-1])
	if pad < 1 || pad > blockPad || pad > len(plain) {
		return nil, nil, ErrCiphertext
	}
	for _, b := range plain[len(plain)-pad:] {
		if int(b) != pad {
			return nil, nil, ErrCiphertext
		}
	}
	plain = plain[:len(plain)-pad]
	if len(plain) < 20 {
		return nil, nil, ErrCiphertext
	}
	n := binary.BigEndian.Uint32(plain[16:20])
	if uint64(n) > uint64(len(plain)-20) {
		return nil, nil, ErrCiphertext
	}
	return plain[20 : 20+n], plain[20+n:], nil
}

// Encrypt encrypts msg as WeChat does, with 16 random bytes in front,
// and returns the encrypted text with its msg_signature over timestamp
// and nonce.
func (c Crypto) Encrypt(msg []byte, timestamp, nonce string) (encrypted, msgSignature string, err error) {
	random := make([]byte, 16)
	if _, err := rand.Read(random); err != nil {
		return "", "", fmt.Errorf("component: random bytes: %w", err)
	}
	return c.EncryptWithRandom(random, msg, timestamp, nonce)
}

// EncryptWithRandom is [Crypto.Encrypt] with the 16 random bytes given,
// for test vectors. It fails when random is not 16 bytes long.
func (c Crypto) EncryptWithRandom(random, msg []byte, timestamp, nonce string) (encrypted, msgSignature string, err error) {
	if len(random) != 16 {
		return "", "", errors.New("component: want 16 random bytes")
	}
	key, err := c.key()
	if err != nil {
		return "", "", err
	}
	var b bytes.Buffer
	b.Write(random)
	_ = binary.Write(&b, binary.BigEndian, uint32(len(msg)))
	b.Write(msg)
	b.WriteString(c.AppID)
	pad := blockPad - b.Len()%blockPad
	b.Write(bytes.Repeat([]byte{byte(pad)}, pad))
	plain := b.Bytes()
	block, _ := aes.NewCipher(key)
	cipher.NewCBCEncrypter(block, key[:aes.BlockSize]).CryptBlocks(plain, plain)
	encrypted = base64.StdEncoding.EncodeToString(plain)
	return encrypted, c.Signature(timestamp, nonce, encrypted), nil
}
