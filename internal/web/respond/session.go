package respond

import (
	"context"
	"net"
	"net/http"
	"time"

	"github.com/upstatehq/upstate/internal/auth"
)

// SessionCookie names the sign-in cookie the admin API and UI share.
const SessionCookie = "upstate_session"

// setCookie sets one of Upstate's cookies the one way: HttpOnly,
// SameSite=Lax, Secure on TLS or when secure is set, for the whole site.
func setCookie(w http.ResponseWriter, r *http.Request, name, value string, ttl time.Duration, secure bool) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true,
		Secure: r.TLS != nil || secure, SameSite: http.SameSiteLaxMode, MaxAge: int(ttl.Seconds())})
}

// ClearSession removes the sign-in cookie.
func ClearSession(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", HttpOnly: true, MaxAge: -1, SameSite: http.SameSiteLaxMode})
}

// DeviceCookie names the cookie that marks a browser that signed in
// before, which spares it the account- and address-wide sign-in limits.
const DeviceCookie = "upstate_device"

// Credentials are a sign-in's email and password with what the request
// says of its client: its address, its device cookie and its session.
func Credentials(r *http.Request, email, password string) auth.Credentials {
	c := auth.Credentials{Email: email, Password: password, Addr: ClientAddr(r)}
	if d, err := r.Cookie(DeviceCookie); err == nil {
		c.Device = d.Value
	}
	if sc, err := r.Cookie(SessionCookie); err == nil {
		c.Session = sc.Value
	}
	return c
}

// SignIn sets the cookies of a sign-in: the session's and the device's,
// both HttpOnly and SameSite=Lax, Secure on TLS requests or when secure
// is set (an https page behind a proxy).
func SignIn(w http.ResponseWriter, r *http.Request, in auth.SignedIn, secure bool) {
	setCookie(w, r, SessionCookie, in.Session, in.SessionTTL, secure)
	setCookie(w, r, DeviceCookie, in.Device, in.DeviceTTL, secure)
}

type clientAddrKey struct{}

// WithClientAddr returns a request whose ClientAddr is addr: the web
// server works it out once, trusting forwarding headers only from its
// trusted proxies.
func WithClientAddr(r *http.Request, addr string) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), clientAddrKey{}, addr))
}

// ClientAddr is the client's address without the port, for throttling
// sign-ins: as the web server worked it out, or the connection's peer.
func ClientAddr(r *http.Request) string {
	if a, ok := r.Context().Value(clientAddrKey{}).(string); ok {
		return a
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
