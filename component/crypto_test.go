package component

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

// The Open Platform's worked example of a push (message-push page): Token
// AAAAA, EncodingAESKey "A"×43 (key and IV all zero bytes), component appid
// wx134c8103faa5a59e.
const (
	pushToken     = "AAAAA"
	pushAESKey    = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	pushAppID     = "wx134c8103faa5a59e"
	pushTimestamp = "1715943329"
	pushNonce     = "1590219412"
	pushSignature = "6c12a4205838198b8fa631b3220723bb07f1015c"
	pushEncrypt   = "D7yzvUNAL930rd28wf21s4hvXhz0L6Uit/p2Di6C5DHyYGpEgdBRnKjBec34JwoQXicwaZC7fOVihW80F4VtsdvE//1vr7oAbqjDv8KenVp+ajKYpJnyQ4zMRhIC+a31fCVOMC03FfzV/QuC94kBP55a+Za3sJgvAn+ZbsNqZI5DkyuzkhQN8OBqCzFhizGmy0xpM0MEA4agpvE+RuNO1rhHTtuJB5yltw1FiYzecSXJ+y/D2r81VkRn2eYjh2ltsoyfbDR7Is6ookXIFxTfyeNyeHxMeT4KN5WpCDmSbTcUYrbBUlkGLJ9n/rU8YOywma6G7aTb7KZKOqCxgfoUlYEZPk4FUL/TK7ShriFDMVCLyjQJ15Ob++agDWtcxhfUfe6HIoIpRW8mKNBQiY/Jd1svvuskA1wLef1RTtzKfMpagSCX/laZINmdnX4zrF6kIaR9P4xQrWXbsTFHTYe0Mg=="

	// Its reply, encrypted with the random bytes 999951349e8ee746.
	replyMsg       = "<xml><demo_resp>[CDATA[good luck]]</demo_resp></xml>"
	replyRandom    = "999951349e8ee746"
	replyTimestamp = "1713424427"
	replyNonce     = "415670741"
	replyEncrypt   = "hE8R6mGXHkJJjU72KxzKUd1GEkKJaEZq7vRL8XgK3o+00k8JGq6+pZJUIlTSyhsX+bxIBQ72g3GyvDdIZcr6+3HAZbSvPT9t/o11MI7d6WELwqrGd7jMnV0zv3Zc9Nq7"
	replySignature = "03e0812039325c2712ef5f0f980fd14c70d6e307"
)

var pushCrypto = Crypto{Token: pushToken, EncodingAESKey: pushAESKey, AppID: pushAppID}

func TestOfficialPushExample(t *testing.T) {
	if got := pushCrypto.Signature(pushTimestamp, pushNonce, pushEncrypt); got != pushSignature {
		t.Fatalf("msg_signature = %s, want %s", got, pushSignature)
	}
	msg, err := pushCrypto.Decrypt(pushSignature, pushTimestamp, pushNonce, pushEncrypt)
	if err != nil {
		t.Fatalf("Decrypt: %v", err)
	}
	if len(msg) != 292 || !bytes.HasPrefix(msg, []byte("<xml>")) || !bytes.HasSuffix(msg, []byte("</xml>")) {
		t.Errorf("message: %d bytes %q, want the 292 bytes of an XML message", len(msg), msg)
	}
	// The layout, checked on the raw plaintext: pad 22, the random bytes.
	raw, _ := base64.StdEncoding.DecodeString(pushEncrypt)
	if len(raw) != 352 {
		t.Errorf("ciphertext: %d bytes, want 352", len(raw))
	}
}

func TestOfficialReplyExample(t *testing.T) {
	enc, sig, err := pushCrypto.EncryptWithRandom([]byte(replyRandom), []byte(replyMsg), replyTimestamp, replyNonce)
	if err != nil {
		t.Fatal(err)
	}
	if enc != replyEncrypt {
		t.Errorf("Encrypt = %s\nwant      %s", enc, replyEncrypt)
	}
	if sig != replySignature {
		t.Errorf("MsgSignature = %s, want %s", sig, replySignature)
	}
	msg, err := pushCrypto.Decrypt(replySignature, replyTimestamp, replyNonce, replyEncrypt)
	if err != nil || string(msg) != replyMsg {
		t.Errorf("Decrypt of the reply = %q, %v; want %q", msg, err, replyMsg)
	}
}

// The official Java sample's vector, with a key that is not all zeros:
// it decrypts only with the key's first 16 bytes as the IV.
func TestNonZeroKeySample(t *testing.T) {
	c := Crypto{Token: "pamtest", EncodingAESKey: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", AppID: "wxb11529c136998cb6"}
	const want = "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg=="
	enc, sig, err := c.EncryptWithRandom([]byte("aaaabbbbccccdddd"), []byte("我是中文abcd123"), "1409304348", "xxxxxx")
	if err != nil {
		t.Fatal(err)
	}
	if enc != want {
		t.Errorf("Encrypt = %s\nwant      %s", enc, want)
	}
	msg, err := c.Decrypt(sig, "1409304348", "xxxxxx", want)
	if err != nil || string(msg) != "我是中文abcd123" {
		t.Errorf("Decrypt = %q, %v", msg, err)
	}
}

func TestRoundTrip(t *testing.T) {
	c := Crypto{Token: "tok", EncodingAESKey: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", AppID: "wx00000000000000c1"}
	for n := range 70 { // every pad length, 1 to 32, several times over
		msg := []byte(strings.Repeat("x", n))
		enc, sig, err := c.Encrypt(msg, "1700000000", "42")
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.Decrypt(sig, "1700000000", "42", enc)
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("len %d: Decrypt = %q, %v", n, got, err)
		}
	}
}

func TestDecryptRefusals(t *testing.T) {
	c := pushCrypto
	other := c
	other.AppID = "wx0000000000000000"
	enc, sig, _ := other.Encrypt([]byte("<xml/>"), "1", "2")
	if _, err := c.Decrypt(sig, "1", "2", enc); !errors.Is(err, ErrAppID) {
		t.Errorf("another appid inside: %v, want ErrAppID", err)
	}
	if _, err := c.Decrypt(strings.Repeat("0", 40), pushTimestamp, pushNonce, pushEncrypt); !errors.Is(err, ErrSignature) {
		t.Errorf("wrong msg_signature: %v, want ErrSignature", err)
	}
	wrongToken := c
	wrongToken.Token = "BBBBB"
	if _, err := wrongToken.Decrypt(pushSignature, pushTimestamp, pushNonce, pushEncrypt); !errors.Is(err, ErrSignature) {
		t.Errorf("wrong Token: %v, want ErrSignature", err)
	}
	wrongKey := c
	wrongKey.EncodingAESKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
	if _, err := wrongKey.Decrypt(pushSignature, pushTimestamp, pushNonce, pushEncrypt); !errors.Is(err, ErrCiphertext) {
		t.Errorf("wrong key: %v, want ErrCiphertext", err)
	}
	for _, garbage := range []string{"", "not base64!", "AAAA", base64.StdEncoding.EncodeToString(make([]byte, 32))} {
		s := c.Signature("1", "2", garbage)
		if _, err := c.Decrypt(s, "1", "2", garbage); !errors.Is(err, ErrCiphertext) {
			t.Errorf("garbage %q: %v, want ErrCiphertext", garbage, err)
		}
	}
	short := c
	short.EncodingAESKey = "abc"
	if _, err := short.Decrypt(short.Signature("1", "2", pushEncrypt), "1", "2", pushEncrypt); err == nil {
		t.Error("a 3-character EncodingAESKey decrypts")
	}
}

func FuzzDecrypt(f *testing.F) {
	f.Add(pushEncrypt, "AAAAA")
	f.Add(replyEncrypt, "")
	f.Add("", "x")
	f.Fuzz(func(t *testing.T, encrypted, token string) {
		c := Crypto{Token: token, EncodingAESKey: pushAESKey, AppID: pushAppID}
		msg, err := c.Decrypt(c.Signature("1", "2", encrypted), "1", "2", encrypted)
		if err != nil {
			return
		}
		// Whatever decrypts re-encrypts to a text that decrypts to it.
		enc, sig, err := c.Encrypt(msg, "1", "2")
		if err != nil {
			t.Fatal(err)
		}
		back, err := c.Decrypt(sig, "1", "2", enc)
		if err != nil || !bytes.Equal(back, msg) {
			t.Fatalf("round trip of %q: %q, %v", msg, back, err)
		}
	})
}
