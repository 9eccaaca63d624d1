package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"concierge/secretbox"
)

// Token subjects.
const (
	SubjectUser       = "user"
	SubjectSuperAdmin = "super_admin"
	SubjectVisitor    = "visitor"
)

// Claims are what an access token carries.
type Claims struct {
	jwt.RegisteredClaims
	// Type is SubjectUser, SubjectSuperAdmin or SubjectVisitor.
	Type string `json:"typ"`
	// CompanyID is set for users and visitors.
	CompanyID string `json:"cid,omitempty"`
	Role      string `json:"role,omitempty"`
	// Version must equal the account's session_version.
	Version int `json:"ver"`
	// Session is the refresh token family; logging out revokes it.
	Session string `json:"sid,omitempty"`
	// ConversationID is set for visitors.
	ConversationID string `json:"conv,omitempty"`
}

// Signer issues and verifies HS256 access tokens.
type Signer struct {
	secret []byte
	// AccessTTL is how long access tokens live (default 15 minutes).
	AccessTTL time.Duration
	// VisitorTTL is how long visitor tokens live (default 30 days).
	VisitorTTL time.Duration
	now        func() time.Time
}

const issuer = "concierge"

// NewSigner returns a Signer for secret (at least 32 bytes).
func NewSigner(secret []byte) (*Signer, error) {
	if len(secret) < 32 {
		return nil, errors.New("JWT secret must be at least 32 bytes")
	}
	return &Signer{secret: secret, AccessTTL: 15 * time.Minute, VisitorTTL: 30 * 24 * time.Hour, now: time.Now}, nil
}

// Sign returns a signed token for c, filling in issuer, times and id.
func (s *Signer) Sign(c Claims, ttl time.Duration) (string, time.Time, error) {
	now := s.now()
	exp := now.Add(ttl)
	c.Issuer = issuer
	c.IssuedAt = jwt.NewNumericDate(now)
	c.NotBefore = jwt.NewNumericDate(now.Add(-30 * time.Second))
	c.ExpiresAt = jwt.NewNumericDate(exp)
	c.ID = uuid.NewString()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(s.secret)
	return tok, exp, err
}

// Parse verifies token and returns its claims.
func (s *Signer) Parse(token string) (*Claims, error) {
	var c Claims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return s.secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(issuer),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(s.now),
	)
	if err != nil {
		if errors.Is(err, jwt.ErrTokenExpired) {
			return nil, errTokenExpired
		}
		return nil, errTokenInvalid
	}
	return &c, nil
}

var (
	errTokenExpired = errors.New("token expired")
	errTokenInvalid = errors.New("invalid token")
)

// RandomToken returns n random bytes, URL-safe base64 encoded.
func RandomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashToken returns the hex SHA-256 of a high-entropy token. Refresh tokens
// and API key secrets are stored only as this hash.
func HashToken(t string) string {
	sum := sha256.Sum256([]byte(t))
	return hex.EncodeToString(sum[:])
}

// LoadOrCreateSecret returns the secret from env if set; otherwise the one
// kept in dataDir/name, generated once (see secretbox.LoadOrCreateFile).
func LoadOrCreateSecret(envValue, dataDir, name string) ([]byte, error) {
	if envValue != "" {
		return []byte(envValue), nil
	}
	s, err := secretbox.LoadOrCreateFile(dataDir, name, func() string { return RandomToken(48) })
	if err != nil {
		return nil, err
	}
	return []byte(s), nil
}

// RandomHex returns n random bytes, hex encoded.
func RandomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// ConstantTimeEqual compares two strings in constant time.
func ConstantTimeEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
