// Package auth holds Upstate's credentials logic: argon2id password
// hashes, session and API token secrets (kept only as hashes), and login
// throttling that slows attackers per account without locking out a whole
// school behind one NAT address.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id's cost settings.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
}

// DefaultParams follow OWASP's argon2id recommendation (19 MiB, 2 passes,
// 1 lane): about 30 ms per hash on the reference machine.
func DefaultParams() Params { return Params{Memory: 19 * 1024, Time: 2, Threads: 1} }

// MinPasswordLength is the shortest password accepted, in characters.
const MinPasswordLength = 12

// common are among the most used passwords of at least MinPasswordLength
// characters in public breach corpora, and what people type when asked
// for twelve; CheckNewPassword refuses them (compared in lower case).
var common = []string{
	"123456789012", "1234567890123", "12345678901234", "123456789123", "1234567890qwe", "1234567890qwerty",
	"111111111111", "000000000000", "121212121212", "123123123123", "987654321098",
	"qwertyuiop12", "qwertyuiop123", "qwertyuiopasdfgh", "qwerty123456", "qwerty1234567", "1q2w3e4r5t6y", "1qaz2wsx3edc", "zaq12wsxcde3",
	"asdfghjkl123", "zxcvbnm12345", "abcdefghijkl", "abcd12345678", "abc123456789",
	"password1234", "password12345", "password123!", "passwordpassword", "password1password", "mypassword123", "p@ssw0rd1234", "p@ssword1234",
	"iloveyou1234", "iloveyouforever", "letmein12345", "welcome12345", "welcome1234!", "changeme1234", "administrator", "admin1234567", "adminadmin12",
	"trustno1trustno1", "football1234", "baseball1234", "superman1234", "starwars1234", "monkey123456", "dragon123456", "sunshine1234",
	"princess1234", "whatever1234", "qazwsxedcrfv", "correcthorsebatterystaple", "upstate12345", "upstatepassword",
}

// CheckNewPassword says what is wrong with a password someone chose, if
// anything: at least MinPasswordLength characters (counted as characters,
// not bytes, after trimming and folding runs of spaces), not one character
// repeated, and not one of the commonest passwords.
func CheckNewPassword(password string) error {
	folded := strings.Join(strings.Fields(password), " ")
	if utf8.RuneCountInString(folded) < MinPasswordLength {
		return fmt.Errorf("password is too short: at least %d characters (spaces at either end, and runs of spaces, count once or not at all)", MinPasswordLength)
	}
	first, _ := utf8.DecodeRuneInString(folded)
	if strings.Trim(folded, string(first)) == "" {
		return errors.New("password is one character repeated: choose a passphrase")
	}
	if slices.Contains(common, strings.ToLower(folded)) {
		return errors.New("password is one of the commonest passwords: choose another")
	}
	return nil
}

// ErrMismatch is returned when a password does not match its hash.
var ErrMismatch = errors.New("password does not match")

// HashPassword returns the PHC string of an argon2id hash of password.
func HashPassword(password string, p Params) (string, error) {
	if err := CheckNewPassword(password); err != nil {
		return "", err
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, 32)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// CheckPassword compares password with a PHC argon2id hash in constant time.
func CheckPassword(password, encoded string) error {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return errors.New("unsupported password hash")
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return errors.New("unsupported argon2 version")
	}
	var p Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return errors.New("malformed password hash")
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return errors.New("malformed password hash")
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil {
		return errors.New("malformed password hash")
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return ErrMismatch
	}
	return nil
}

// NewSecret returns a fresh random secret with a recognisable prefix
// ("ups_" for API tokens) and the hash to store in its place.
func NewSecret(prefix string) (secret, hash string) {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	secret = prefix + base64.RawURLEncoding.EncodeToString(b)
	return secret, HashSecret(secret)
}

// HashSecret is how session and token secrets are stored: SHA-256, hex.
// The secrets are random and long, so a fast hash is enough.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}
