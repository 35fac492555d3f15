// Package auth issues and validates access tokens and decides who may do what.
package auth

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"strconv"
	"strings"
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
	// DefaultAccessTTL keeps access tokens short-lived; refresh tokens renew them.
	DefaultAccessTTL = 15 * time.Minute
)

// ErrInvalidToken is returned for any token that does not validate; the reason
// is deliberately not shown to callers.
var ErrInvalidToken = errors.New("invalid or expired token")

// Tokens issues and validates access tokens: HS256 with one secret, or EdDSA
// with named keys once UseEd25519 is called.
type Tokens struct {
	secret   []byte
	issuer   string
	audience string
	ttl      time.Duration
	now      func() time.Time
	// With Ed25519 keys configured, tokens are EdDSA-signed by signerKID and
	// only EdDSA tokens with a known kid validate; HS256 is then refused, so
	// the two can never be confused.
	edKeys    map[string]ed25519.PrivateKey
	signerKID string
}

// UseEd25519 switches signing to EdDSA. keys maps key ids to private keys;
// signer names the key that signs new tokens. Keeping retired keys in keys
// lets tokens they signed validate until they expire (rotation).
func (t *Tokens) UseEd25519(keys map[string]ed25519.PrivateKey, signer string) error {
	if _, ok := keys[signer]; !ok {
		return fmt.Errorf("signing key %q is not among the keys", signer)
	}
	t.edKeys, t.signerKID = keys, signer
	return nil
}

// NewTokens returns a token service signing with secret.
func NewTokens(secret []byte, ttl time.Duration) (*Tokens, error) {
	if len(secret) < 32 {
		return nil, fmt.Errorf("JWT secret must be at least 32 bytes, got %d", len(secret))
	}
	if ttl <= 0 {
		ttl = DefaultAccessTTL
	}
	return &Tokens{secret: secret, issuer: DefaultIssuer, audience: DefaultAudience, ttl: ttl, now: time.Now}, nil
}

// claims are what Showcase puts in an access token. App tokens have subject
// "app:<id>", act for the user in Actor, and carry their scopes and shop.
type claims struct {
	jwt.RegisteredClaims
	Scope  string `json:"scope,omitempty"`
	ShopID int64  `json:"shop,omitempty"`
	Actor  int64  `json:"act,omitempty"`
	// Session is the refresh-token family a person's token was issued in
	// (0 for tokens issued outside a session, such as tests').
	Session int64 `json:"sid,omitempty"`
}

// Claims are a validated token's meaning.
type Claims struct {
	// UserID is the person the token is for, or the user an app acts for.
	UserID int64
	// AppID is set for app tokens.
	AppID int64
	// Scopes limit an app token.
	Scopes []string
	// ShopID limits a shop app's token to its shop.
	ShopID int64
	// SessionID is the session (refresh-token family) a person's token
	// belongs to; 0 when it was issued outside one. Ending the session
	// (logOut, a reused refresh token) ends the token.
	SessionID int64
	// ExpiresAt is when the token stops being valid.
	ExpiresAt time.Time
}

// TTL is the lifetime of issued access tokens.
func (t *Tokens) TTL() time.Duration { return t.ttl }

// Issue returns a signed access token for a user, tied to no session.
func (t *Tokens) Issue(userID int64) (string, error) {
	return t.IssueSession(userID, 0)
}

// IssueSession returns a signed access token for a user in a session (a
// refresh-token family id, see store.DB.IssueRefreshToken): the token stops
// working when that session ends.
func (t *Tokens) IssueSession(userID, sessionID int64) (string, error) {
	return t.sign(claims{RegisteredClaims: t.registered(strconv.FormatInt(userID, 10)), Session: sessionID})
}

// IssueApp returns a signed access token for an app acting for a user.
func (t *Tokens) IssueApp(appID, actorID, shopID int64, scopes []string) (string, error) {
	return t.sign(claims{
		RegisteredClaims: t.registered("app:" + strconv.FormatInt(appID, 10)),
		Scope:            strings.Join(scopes, " "), ShopID: shopID, Actor: actorID,
	})
}

func (t *Tokens) registered(subject string) jwt.RegisteredClaims {
	now := t.now()
	return jwt.RegisteredClaims{
		Subject:   subject,
		Issuer:    t.issuer,
		Audience:  jwt.ClaimStrings{t.audience},
		IssuedAt:  jwt.NewNumericDate(now),
		NotBefore: jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(t.ttl)),
	}
}

func (t *Tokens) sign(c claims) (string, error) {
	if t.edKeys != nil {
		tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c)
		tok.Header["kid"] = t.signerKID
		return tok.SignedString(t.edKeys[t.signerKID])
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(t.secret)
}

// key picks the verification key. Tokens that point at keys elsewhere (jku,
// x5u, embedded jwk) are refused outright: nothing is ever fetched.
func (t *Tokens) key(tok *jwt.Token) (any, error) {
	for _, h := range []string{"jku", "x5u", "jwk", "x5c"} {
		if _, ok := tok.Header[h]; ok {
			return nil, ErrInvalidToken
		}
	}
	kidValue, hasKid := tok.Header["kid"]
	if t.edKeys == nil {
		// HS256 tokens are issued without a kid; one naming a key is not ours.
		if hasKid {
			return nil, ErrInvalidToken
		}
		return t.secret, nil
	}
	kid, _ := kidValue.(string)
	k, ok := t.edKeys[kid]
	if !ok {
		return nil, ErrInvalidToken
	}
	return k.Public(), nil
}

func (t *Tokens) methods() []string {
	if t.edKeys != nil {
		return []string{jwt.SigningMethodEdDSA.Alg()}
	}
	return []string{jwt.SigningMethodHS256.Alg()}
}

// Validate checks a token's signature, method, issuer, audience and expiry and
// returns what it grants.
func (t *Tokens) Validate(token string) (Claims, error) {
	if len(token) > MaxTokenBytes {
		return Claims{}, ErrInvalidToken
	}
	var c claims
	parsed, err := jwt.ParseWithClaims(token, &c, t.key,
		jwt.WithValidMethods(t.methods()),
		jwt.WithIssuer(t.issuer),
		jwt.WithAudience(t.audience),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(leeway),
		jwt.WithTimeFunc(t.now),
	)
	if err != nil || !parsed.Valid {
		return Claims{}, ErrInvalidToken
	}
	if app, ok := strings.CutPrefix(c.Subject, "app:"); ok {
		id, err := strconv.ParseInt(app, 10, 64)
		if err != nil || id <= 0 || c.Actor <= 0 {
			return Claims{}, ErrInvalidToken
		}
		return Claims{UserID: c.Actor, AppID: id, Scopes: strings.Fields(c.Scope), ShopID: c.ShopID, ExpiresAt: c.ExpiresAt.Time}, nil
	}
	id, err := strconv.ParseInt(c.Subject, 10, 64)
	if err != nil || id <= 0 || c.Session < 0 {
		return Claims{}, ErrInvalidToken
	}
	return Claims{UserID: id, SessionID: c.Session, ExpiresAt: c.ExpiresAt.Time}, nil
}
