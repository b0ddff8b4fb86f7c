package jssdk

import (
	"crypto/sha1"
	"encoding/hex"
	"strconv"
)

// Signature returns the signature of a wx.config: the SHA-1, in lowercase
// hex, of "jsapi_ticket=…&noncestr=…&timestamp=…&url=…" with the values
// as they are (no URL-escaping). pageURL is the page's full URL with its
// query and without its fragment; timestamp is in Unix seconds; nonceStr
// and timestamp go into the wx.config beside the signature.
func Signature(ticket, nonceStr string, timestamp int64, pageURL string) string {
	var buf [512]byte
	b := append(buf[:0], "jsapi_ticket="...)
	b = append(b, ticket...)
	b = append(b, "&noncestr="...)
	b = append(b, nonceStr...)
	b = append(b, "&timestamp="...)
	b = strconv.AppendInt(b, timestamp, 10)
	b = append(b, "&url="...)
	b = append(b, pageURL...)
	sum := sha1.Sum(b)
	var out [2 * sha1.Size]byte
	hex.Encode(out[:], sum[:])
	return string(out[:])
}
