module github.com/wechatauth/wechatauth

go 1.23.0

require (
	github.com/alexedwards/scs/v2 v2.9.0
	golang.org/x/sync v0.16.0
)
