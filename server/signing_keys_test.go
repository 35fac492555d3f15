package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	coderws "github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/golang-jwt/jwt/v5"

	"showcase/auth"
	"showcase/store/storetest"
)

// status sends a GraphQL request and returns the HTTP status and body.
func status(t *testing.T, base, token, query string) (int, string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query})
	req, _ := http.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	return resp.StatusCode, buf.String()
}

// header decodes a JWT's header.
func header(t *testing.T, token string) map[string]any {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatal(err)
	}
	return h
}

// TestEd25519SigningKeysEndToEnd runs the real binary with JWT_ED25519_KEYS
// and checks rotation through HTTP, the token endpoint and the websocket:
// the first key signs, the second still validates, HS256 and unknown or
// foreign kids are refused, and a bad key setting refuses to start.
func TestEd25519SigningKeysEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server")
	}
	bin, _ := buildServer(t)

	t.Run("BadKeysRefuseToStart", func(t *testing.T) {
		for _, spec := range []string{"k1:not-base64!", "k1", "k1:" + base64.StdEncoding.EncodeToString([]byte("short"))} {
			cmd := exec.Command(bin, "-addr", "127.0.0.1:0")
			cmd.Env = []string{"JWT_ED25519_KEYS=" + spec, "JWT_SECRET=" + strings.Repeat("h", 32)}
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || !strings.Contains(string(out), "JWT_ED25519_KEYS") {
				t.Fatalf("JWT_ED25519_KEYS=%s: %v\n%s", spec, err, out)
			}
		}
	})

	signSeed, verifySeed := bytes.Repeat([]byte{2}, 32), bytes.Repeat([]byte{1}, 32)
	signKey, verifyKey := ed25519.NewKeyFromSeed(signSeed), ed25519.NewKeyFromSeed(verifySeed)
	_, strangerKey, _ := ed25519.GenerateKey(nil)
	hsSecret := strings.Repeat("h", 32)
	t.Setenv("JWT_ED25519_KEYS", "k2:"+base64.StdEncoding.EncodeToString(signSeed)+", k1:"+base64.RawURLEncoding.EncodeToString(verifySeed))
	t.Setenv("JWT_SECRET", hsSecret)
	p := startServer(t, bin, storetest.DSN(t), "-seed")

	var login struct {
		LogIn struct{ Token string }
	}
	post(t, p.base, "", `mutation { logIn(input: {email: "seller@showcase.dev", password: "showcase-demo"}) { token } }`, &login)
	if h := header(t, login.LogIn.Token); h["alg"] != "EdDSA" || h["kid"] != "k2" {
		t.Fatalf("log-in token header = %v, want EdDSA signed by k2 (the first key)", h)
	}
	if _, err := jwt.Parse(login.LogIn.Token, func(*jwt.Token) (any, error) { return signKey.Public(), nil },
		jwt.WithValidMethods([]string{"EdDSA"})); err != nil {
		t.Fatalf("the log-in token does not verify with k2: %v", err)
	}
	var me struct {
		Viewer struct {
			ID    string
			Shops struct {
				Edges []struct{ Node struct{ ID string } }
			}
		}
	}
	post(t, p.base, login.LogIn.Token, `{ viewer { id shops(first: 1) { edges { node { id } } } } }`, &me)
	userID := globalIDNumber(me.Viewer.ID)

	sign := func(method jwt.SigningMethod, key any, kid string) string {
		tok := jwt.NewWithClaims(method, jwt.MapClaims{"sub": fmt.Sprint(userID), "iss": auth.DefaultIssuer,
			"aud": auth.DefaultAudience, "exp": time.Now().Add(time.Hour).Unix()})
		if kid != "" {
			tok.Header["kid"] = kid
		}
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	for name, tc := range map[string]struct {
		token string
		want  int
	}{
		"SignedWithTheSecondKey":    {sign(jwt.SigningMethodEdDSA, verifyKey, "k1"), http.StatusOK},
		"SignedWithTheFirstKey":     {sign(jwt.SigningMethodEdDSA, signKey, "k2"), http.StatusOK},
		"HS256WithTheSecret":        {sign(jwt.SigningMethodHS256, []byte(hsSecret), ""), http.StatusUnauthorized},
		"HS256WithAKnownKid":        {sign(jwt.SigningMethodHS256, []byte(hsSecret), "k1"), http.StatusUnauthorized},
		"UnknownKid":                {sign(jwt.SigningMethodEdDSA, strangerKey, "k9"), http.StatusUnauthorized},
		"ForeignKeyUnderAKnownKid":  {sign(jwt.SigningMethodEdDSA, strangerKey, "k1"), http.StatusUnauthorized},
		"SecondKeyUnderTheFirstKid": {sign(jwt.SigningMethodEdDSA, verifyKey, "k2"), http.StatusUnauthorized},
		"NoKid":                     {sign(jwt.SigningMethodEdDSA, signKey, ""), http.StatusUnauthorized},
	} {
		t.Run(name, func(t *testing.T) {
			code, body := status(t, p.base, tc.token, `{ viewer { handle } }`)
			if code != tc.want || (code == http.StatusOK && !strings.Contains(body, `"handle":"seller"`)) {
				t.Fatalf("status %d, want %d: %s", code, tc.want, body)
			}
		})
	}

	t.Run("AppTokens", func(t *testing.T) {
		var app struct {
			CreateApp struct {
				App          struct{ ClientID string }
				ClientSecret string
			}
		}
		post(t, p.base, login.LogIn.Token, `mutation($shop: ID!) { createApp(input: {name: "Keys", scopes: ["catalog:read"], shopId: $shop}) {
			app { clientId } clientSecret } }`, &app, map[string]any{"shop": me.Viewer.Shops.Edges[0].Node.ID})
		resp, err := http.PostForm(p.base+"/oauth/token", url.Values{"grant_type": {"client_credentials"},
			"client_id": {app.CreateApp.App.ClientID}, "client_secret": {app.CreateApp.ClientSecret}})
		if err != nil {
			t.Fatal(err)
		}
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&tok)
		resp.Body.Close()
		if h := header(t, tok.AccessToken); h["alg"] != "EdDSA" || h["kid"] != "k2" {
			t.Fatalf("app token header = %v", h)
		}
		if code, body := status(t, p.base, tok.AccessToken, `{ shops(first: 1) { edges { node { id } } } }`); code != http.StatusOK {
			t.Fatalf("the app token was refused: %d %s", code, body)
		}
	})

	t.Run("Websocket", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		for token, want := range map[string]string{
			sign(jwt.SigningMethodEdDSA, verifyKey, "k1"):      "connection_ack",
			sign(jwt.SigningMethodHS256, []byte(hsSecret), ""): "4403",
			sign(jwt.SigningMethodEdDSA, strangerKey, "k9"):    "4403",
		} {
			conn, _, err := coderws.Dial(ctx, "ws"+strings.TrimPrefix(p.base, "http")+"/graphql",
				&coderws.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
			if err != nil {
				t.Fatal(err)
			}
			_ = wsjson.Write(ctx, conn, map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + token}})
			var m struct{ Type string }
			got := ""
			if err := wsjson.Read(ctx, conn, &m); err != nil {
				got = fmt.Sprint(int(coderws.CloseStatus(err)))
			} else {
				got = m.Type
			}
			conn.CloseNow()
			if got != want {
				t.Fatalf("connection_init with %s: got %s, want %s", header(t, token), got, want)
			}
		}
	})
}
