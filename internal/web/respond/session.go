package respond

import (
	"net"
	"net/http"
	"time"
)

// SessionCookie names the sign-in cookie the admin API and UI share.
const SessionCookie = "upstate_session"

// SetSession sets the sign-in cookie: HttpOnly, SameSite=Lax, and Secure
// on TLS requests or when secure is set (an https page behind a proxy).
func SetSession(w http.ResponseWriter, r *http.Request, secret string, ttl time.Duration, secure bool) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: secret, Path: "/", HttpOnly: true,
		Secure: r.TLS != nil || secure, SameSite: http.SameSiteLaxMode, MaxAge: int(ttl.Seconds())})
}

// ClearSession removes the sign-in cookie.
func ClearSession(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", HttpOnly: true, MaxAge: -1, SameSite: http.SameSiteLaxMode})
}

// ClientAddr is the request's remote address without the port, for
// throttling sign-ins.
func ClientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
