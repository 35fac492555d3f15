package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// sealedPrefix starts a webhook secret stored sealed: "gcm1:<key id>:<base64url
// of the 12-byte nonce followed by the ciphertext and its tag>".
const sealedPrefix = "gcm1:"

// WebhookKeys seal apps' webhook secrets at rest with AES-256-GCM. Signing
// needs the secret itself, so it cannot be hashed as the client secret is;
// sealed, a copy of the database (a backup, a replica, a leaked dump) does
// not give away the secrets without the keys, which live in the server's
// environment (WEBHOOK_SECRET_KEYS). The app's id is the associated data,
// so a sealed secret copied onto another app's row does not open.
//
// Several keys may be given: the first seals; every one opens the secrets
// sealed with it. Rotating the key is adding a new one first, letting the
// server reseal every secret under it (ResealWebhookSecrets, run by the
// webhook worker), then removing the old one.
type WebhookKeys struct {
	current string
	aeads   map[string]cipher.AEAD
}

// ParseWebhookKeys reads WEBHOOK_SECRET_KEYS: comma-separated "id:key"
// pairs, key being 32 bytes in standard base64 (openssl rand -base64 32),
// id a short name of letters, digits, '-' or '_' naming the key in each
// sealed secret. The first seals new secrets. Empty spec gives nil: secrets
// are then stored as they are.
func ParseWebhookKeys(spec string) (*WebhookKeys, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, nil
	}
	k := &WebhookKeys{aeads: map[string]cipher.AEAD{}}
	for i, part := range strings.Split(spec, ",") {
		id, b64, ok := strings.Cut(strings.TrimSpace(part), ":")
		if !ok || !validKeyID(id) {
			return nil, fmt.Errorf("key %d: want id:base64key, the id of 1 to 32 letters, digits, '-' or '_'", i+1)
		}
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(raw) != 32 {
			return nil, fmt.Errorf("key %q: want 32 bytes in standard base64 (openssl rand -base64 32)", id)
		}
		if _, dup := k.aeads[id]; dup {
			return nil, fmt.Errorf("key id %q given twice", id)
		}
		block, err := aes.NewCipher(raw)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", id, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", id, err)
		}
		k.aeads[id] = aead
		if i == 0 {
			k.current = id
		}
	}
	return k, nil
}

func validKeyID(id string) bool {
	if id == "" || len(id) > 32 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// CurrentID is the id of the key that seals new secrets ("" for nil keys).
func (k *WebhookKeys) CurrentID() string {
	if k == nil {
		return ""
	}
	return k.current
}

func additionalData(appID int64) []byte {
	return []byte("showcase webhook secret, app " + strconv.FormatInt(appID, 10))
}

// seal returns the stored form of an app's secret: sealed under the current
// key, or plain when there are no keys.
func (k *WebhookKeys) seal(appID int64, secret string) (string, error) {
	if k == nil {
		return secret, nil
	}
	aead := k.aeads[k.current]
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("nonce: %w", err)
	}
	out := aead.Seal(nonce, nonce, []byte(secret), additionalData(appID))
	return sealedPrefix + k.current + ":" + base64.RawURLEncoding.EncodeToString(out), nil
}

// ErrWebhookKeyMissing means a secret is sealed with a key this server was
// not given (or the data was altered).
var ErrWebhookKeyMissing = errors.New("the webhook secret is sealed with a key not in WEBHOOK_SECRET_KEYS")

// open returns the secret from its stored form: a plain one as it is, a
// sealed one opened with its key.
func (k *WebhookKeys) open(appID int64, stored string) (string, error) {
	rest, sealed := strings.CutPrefix(stored, sealedPrefix)
	if !sealed {
		return stored, nil
	}
	id, b64, _ := strings.Cut(rest, ":")
	if k == nil || k.aeads[id] == nil {
		return "", fmt.Errorf("%w (key %q)", ErrWebhookKeyMissing, id)
	}
	aead := k.aeads[id]
	raw, err := base64.RawURLEncoding.DecodeString(b64)
	if err != nil || len(raw) < aead.NonceSize() {
		return "", fmt.Errorf("%w: malformed", ErrWebhookKeyMissing)
	}
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], additionalData(appID))
	if err != nil {
		return "", fmt.Errorf("%w: it does not open (key %q)", ErrWebhookKeyMissing, id)
	}
	return string(plain), nil
}

// current reports whether a stored secret is already in the form seal
// would give now (sealed with the current key, or plain without keys).
func (k *WebhookKeys) isCurrent(stored string) bool {
	if k == nil {
		return true // nothing to seal with; sealed ones stay sealed
	}
	return strings.HasPrefix(stored, sealedPrefix+k.current+":")
}
