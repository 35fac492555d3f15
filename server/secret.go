package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// jwtSecret returns the configured secret, or in development a secret
// generated once and kept under the data folder so tokens survive restarts.
// In production nothing is read from or written to the data folder: without
// JWT_SECRET (parseConfig then insists on JWT_ED25519_KEYS, which sign and
// verify every token) the HS256 secret is random and lives only in memory.
func jwtSecret(cfg config) ([]byte, error) {
	if cfg.JWTSecret != "" {
		return []byte(cfg.JWTSecret), nil
	}
	if cfg.Production {
		raw := make([]byte, 32)
		if _, err := rand.Read(raw); err != nil {
			return nil, err
		}
		return []byte(hex.EncodeToString(raw)), nil
	}
	path := filepath.Join(cfg.DataDir, "jwt-secret")
	b, err := os.ReadFile(path)
	if err == nil && len(strings.TrimSpace(string(b))) >= 32 {
		return []byte(strings.TrimSpace(string(b))), nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, err
	}
	secret := hex.EncodeToString(raw)
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return []byte(secret), nil
}

// ed25519Keys reads JWT_ED25519_KEYS: comma-separated "kid:base64-seed"
// pairs (32-byte seeds, standard or URL base64). The first key signs; the
// others still validate, for rotation. It returns the keys by kid and the
// signing kid, or an error naming the bad entry (without its seed) for an
// empty entry, a missing or repeated kid, or a seed that is not 32 bytes.
func ed25519Keys(spec string) (map[string]ed25519.PrivateKey, string, error) {
	keys := map[string]ed25519.PrivateKey{}
	signer := ""
	for i, part := range strings.Split(spec, ",") {
		kid, b64, ok := strings.Cut(strings.TrimSpace(part), ":")
		kid = strings.TrimSpace(kid)
		if !ok || kid == "" {
			return nil, "", fmt.Errorf("JWT_ED25519_KEYS: entry %d must be kid:base64-seed", i+1)
		}
		if _, dup := keys[kid]; dup {
			return nil, "", fmt.Errorf("JWT_ED25519_KEYS: key id %q appears twice", kid)
		}
		b64 = strings.TrimSpace(b64)
		seed, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			seed, err = base64.RawURLEncoding.DecodeString(b64)
		}
		if err != nil || len(seed) != ed25519.SeedSize {
			return nil, "", fmt.Errorf("JWT_ED25519_KEYS: key %q must be a base64 32-byte seed", kid)
		}
		keys[kid] = ed25519.NewKeyFromSeed(seed)
		if signer == "" {
			signer = kid
		}
	}
	return keys, signer, nil
}
