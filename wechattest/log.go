package wechattest

import (
	"bufio"
	"context"
	"log/slog"
	"net"
	"net/http"
	"strings"
)

// SetLogger makes the emulator log each request it answers to l, at level
// Info with the message "request": its method and path, and what it was
// given: "errcode" for the /sns and /cgi-bin API (0 for a success, with
// "errmsg" otherwise), "status" for pages and redirects (with "errcode" on
// an error page that shows one), or "answer" "dropped" for a DropNext and
// "none" when the client left before an answer. The query is never logged:
// it carries the app secret, codes and tokens. Nil, the default, logs
// nothing.
func (s *Server) SetLogger(l *slog.Logger) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.logger = l
}

// isAPI reports whether path belongs to the JSON API, which answers with
// an errcode, rather than to the pages a browser sees.
func isAPI(path string) bool {
	return strings.HasPrefix(path, "/sns/") || strings.HasPrefix(path, "/cgi-bin/")
}

// logRequests logs each request next answers to the logger of SetLogger.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		l := s.logger
		s.mu.Unlock()
		if l == nil {
			next.ServeHTTP(w, r)
			return
		}
		lw := &loggedWriter{ResponseWriter: w}
		// Deferred, so that a drop that aborts the handler is logged too.
		defer func() {
			attrs := []slog.Attr{slog.String("method", r.Method), slog.String("path", r.URL.Path)}
			switch {
			case lw.dropped:
				attrs = append(attrs, slog.String("answer", "dropped"))
			case lw.status == 0:
				attrs = append(attrs, slog.String("answer", "none"))
			case isAPI(r.URL.Path) && lw.status == http.StatusOK:
				attrs = append(attrs, slog.Int("errcode", lw.errcode))
				if lw.errcode != 0 {
					msg := errorMessage(lw.errcode)
					if isWeComAPI(r.URL.Path) {
						msg = wecomErrorText(lw.errcode)
					}
					attrs = append(attrs, slog.String("errmsg", msg))
				}
			default:
				attrs = append(attrs, slog.Int("status", lw.status))
				if lw.errcode != 0 {
					attrs = append(attrs, slog.Int("errcode", lw.errcode))
				}
			}
			l.LogAttrs(context.Background(), slog.LevelInfo, "request", attrs...)
		}()
		next.ServeHTTP(lw, r)
	})
}

// loggedWriter notes what a handler answered, for logRequests.
type loggedWriter struct {
	http.ResponseWriter
	status  int  // 0 until the header is written
	errcode int  // set by noteErrcode
	dropped bool // the connection was hijacked to be closed unanswered
}

func (w *loggedWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *loggedWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *loggedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Hijack is how DropNext closes the connection; it is logged as a drop.
func (w *loggedWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.dropped = true
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// noteErrcode tells the request log which errcode w answers with.
func noteErrcode(w http.ResponseWriter, errcode int) {
	if lw, ok := w.(*loggedWriter); ok {
		lw.errcode = errcode
	}
}
