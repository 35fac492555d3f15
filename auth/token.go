// Package auth issues and validates access tokens and decides who may do what.
package auth

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Token settings shared by issuing and validation.
const (
	DefaultIssuer   = "showcase"
	DefaultAudience = "showcase-api"
	// MaxTokenBytes bounds what the parser is given: an oversized token is
	// refused before any decoding work.
	MaxTokenBytes = 8 << 10
	leeway        = 30 * time.Second
)

// ErrInvalidToken is returned for any token that does not validate; the reason
// is deliberately not shown to callers.
var ErrInvalidToken = errors.New("invalid or expired token")

// Tokens issues and validates HS256 access tokens.
type Tokens struct {
	secret   []byte
	issuer   string
	audience string
	ttl      time.Duration
	now      func() time.Time
}

// NewTokens returns a token service signing with secret.
func NewTokens(secret []byte, ttl time.Duration) (*Tokens, error) {
	if len(secret) < 32 {
		return nil, fmt.Errorf("JWT secret must be at least 32 bytes, got %d", len(secret))
	}
	if ttl <= 0 {
		ttl = 24 * time.Hour
	}
	return &Tokens{secret: secret, issuer: DefaultIssuer, audience: DefaultAudience, ttl: ttl, now: time.Now}, nil
}

// Issue returns a signed token for a user.
func (t *Tokens) Issue(userID int64) (string, error) {
	now := t.now()
	claims := jwt.RegisteredClaims{
		Subject:   strconv.FormatInt(userID, 10),
		Issuer:    t.issuer,
		Audience:  jwt.ClaimStrings{t.audience},
		IssuedAt:  jwt.NewNumericDate(now),
		NotBefore: jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(t.ttl)),
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(t.secret)
}

// Validate checks a token's signature, method, issuer, audience and expiry and
// returns the user id it was issued for.
func (t *Tokens) Validate(token string) (int64, error) {
	if len(token) > MaxTokenBytes {
		return 0, ErrInvalidToken
	}
	var claims jwt.RegisteredClaims
	parsed, err := jwt.ParseWithClaims(token, &claims, func(*jwt.Token) (any, error) { return t.secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(t.issuer),
		jwt.WithAudience(t.audience),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(leeway),
		jwt.WithTimeFunc(t.now),
	)
	if err != nil || !parsed.Valid {
		return 0, ErrInvalidToken
	}
	id, err := strconv.ParseInt(claims.Subject, 10, 64)
	if err != nil || id <= 0 {
		return 0, ErrInvalidToken
	}
	return id, nil
}
