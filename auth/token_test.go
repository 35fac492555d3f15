package auth

import (
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
	}
	for name, token := range bad {
		t.Run(name, func(t *testing.T) {
			if c, err := tokens.Validate(token); err == nil {
				t.Fatalf("accepted: %+v", c)
			}
		})
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
