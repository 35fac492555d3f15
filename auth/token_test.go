package auth

import (
	"crypto/ed25519"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestTokens(t *testing.T) {
	secret := []byte(strings.Repeat("s", 32))
	tokens, err := NewTokens(secret, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	good, err := tokens.Issue(42)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := tokens.Validate(good); err != nil || c.UserID != 42 || c.AppID != 0 {
		t.Fatalf("Validate(issued) = %+v, %v", c, err)
	}

	sign := func(method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(method, claims).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	valid := func() jwt.MapClaims {
		return jwt.MapClaims{"sub": "42", "iss": DefaultIssuer, "aud": DefaultAudience, "exp": time.Now().Add(time.Hour).Unix()}
	}
	with := func(k string, v any) jwt.MapClaims {
		c := valid()
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	hsWithKid := func() string {
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, valid())
		tok.Header["kid"] = "k9"
		s, err := tok.SignedString(secret)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	bad := map[string]string{
		"AlgNone":       sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, valid()),
		"OtherSecret":   sign(jwt.SigningMethodHS256, []byte(strings.Repeat("x", 32)), valid()),
		"HS512":         sign(jwt.SigningMethodHS512, secret, valid()),
		"WrongIssuer":   sign(jwt.SigningMethodHS256, secret, with("iss", "evil")),
		"WrongAudience": sign(jwt.SigningMethodHS256, secret, with("aud", "other-api")),
		"NoExpiry":      sign(jwt.SigningMethodHS256, secret, with("exp", nil)),
		"Expired":       sign(jwt.SigningMethodHS256, secret, with("exp", time.Now().Add(-time.Hour).Unix())),
		"BadSubject":    sign(jwt.SigningMethodHS256, secret, with("sub", "root")),
		"Oversized":     sign(jwt.SigningMethodHS256, secret, with("pad", strings.Repeat("a", MaxTokenBytes))),
		"Garbage":       "not.a.token",
		"HS256WithKid":  hsWithKid(),
		"NegativeSID":   sign(jwt.SigningMethodHS256, secret, with("sid", -1)),
		"OneMegabyte":   strings.Repeat("a", 1<<20),
	}
	for name, token := range bad {
		t.Run(name, func(t *testing.T) {
			if c, err := tokens.Validate(token); err == nil {
				t.Fatalf("accepted: %+v", c)
			}
		})
	}
	inSession, _ := tokens.IssueSession(42, 9)
	if c, err := tokens.Validate(inSession); err != nil || c.UserID != 42 || c.SessionID != 9 {
		t.Fatalf("Validate(session token) = %+v, %v", c, err)
	}
	if _, err := NewTokens([]byte("short"), time.Hour); err == nil {
		t.Fatal("a short secret was accepted")
	}
}

func TestPasswords(t *testing.T) {
	hash, err := HashPassword("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !CheckPassword(hash, "correct horse") || CheckPassword(hash, "wrong horse") {
		t.Fatal("password check is wrong")
	}
	if PasswordProblem("short") == "" || PasswordProblem(strings.Repeat("a", 73)) == "" || PasswordProblem("long enough") != "" {
		t.Fatal("password rules are wrong")
	}
}

func TestEd25519TokensWithRotation(t *testing.T) {
	secret := []byte(strings.Repeat("s", 32))
	_, oldKey, _ := ed25519.GenerateKey(nil)
	_, newKey, _ := ed25519.GenerateKey(nil)
	_, strangerKey, _ := ed25519.GenerateKey(nil)
	before, _ := NewTokens(secret, time.Hour)
	if err := before.UseEd25519(map[string]ed25519.PrivateKey{"k1": oldKey}, "k1"); err != nil {
		t.Fatal(err)
	}
	oldToken, err := before.Issue(7)
	if err != nil {
		t.Fatal(err)
	}
	// Rotation: k2 signs now, k1 still validates what it signed.
	after, _ := NewTokens(secret, time.Hour)
	if err := after.UseEd25519(map[string]ed25519.PrivateKey{"k1": oldKey, "k2": newKey}, "k2"); err != nil {
		t.Fatal(err)
	}
	newToken, _ := after.Issue(8)
	for token, want := range map[string]int64{oldToken: 7, newToken: 8} {
		if c, err := after.Validate(token); err != nil || c.UserID != want {
			t.Fatalf("Validate = %+v, %v; want user %d", c, err, want)
		}
	}
	valid := jwt.MapClaims{"sub": "1", "iss": DefaultIssuer, "aud": DefaultAudience, "exp": time.Now().Add(time.Hour).Unix()}
	signed := func(method jwt.SigningMethod, key any, header map[string]any) string {
		tok := jwt.NewWithClaims(method, valid)
		for k, v := range header {
			tok.Header[k] = v
		}
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	hsTokens, _ := NewTokens(secret, time.Hour)
	hsToken, _ := hsTokens.Issue(1)
	attacks := map[string]string{
		"UnknownKid":      signed(jwt.SigningMethodEdDSA, strangerKey, map[string]any{"kid": "k9"}),
		"ForeignKeyK1":    signed(jwt.SigningMethodEdDSA, strangerKey, map[string]any{"kid": "k1"}),
		"NoKid":           signed(jwt.SigningMethodEdDSA, newKey, nil),
		"JKUHeader":       signed(jwt.SigningMethodEdDSA, newKey, map[string]any{"kid": "k2", "jku": "https://evil.example/jwks"}),
		"X5UHeader":       signed(jwt.SigningMethodEdDSA, newKey, map[string]any{"kid": "k2", "x5u": "https://evil.example/cert"}),
		"HS256Confusion":  hsToken,
		"HSWithPublicKey": signed(jwt.SigningMethodHS256, []byte(newKey.Public().(ed25519.PublicKey)), map[string]any{"kid": "k2"}),
	}
	for name, token := range attacks {
		t.Run(name, func(t *testing.T) {
			if c, err := after.Validate(token); err == nil {
				t.Fatalf("accepted: %+v", c)
			}
		})
	}
}
