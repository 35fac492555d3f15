package store

import (
	"encoding/base64"
	"strings"
	"testing"
)

// TestWebhookKeys: WEBHOOK_SECRET_KEYS parses as documented, a sealed
// secret opens with its key and for its app only, a plain one (stored
// before keys were set) reads as is, and bad specs are refused.
func TestWebhookKeys(t *testing.T) {
	key := func(c string) string { return base64.StdEncoding.EncodeToString([]byte(strings.Repeat(c, 32))) }
	k, err := ParseWebhookKeys("new:" + key("n") + ", old:" + key("o"))
	if err != nil || k.CurrentID() != "new" {
		t.Fatalf("parse: %v %v", k, err)
	}
	sealed, err := k.seal(7, "whsec")
	if err != nil || !strings.HasPrefix(sealed, "gcm1:new:") || strings.Contains(sealed, "whsec") || !k.isCurrent(sealed) {
		t.Fatalf("sealed %q (%v)", sealed, err)
	}
	if again, _ := k.seal(7, "whsec"); again == sealed {
		t.Fatal("two seals of one secret are equal: the nonce is not fresh")
	}
	if got, err := k.open(7, sealed); err != nil || got != "whsec" {
		t.Fatalf("open = %q, %v", got, err)
	}
	if _, err := k.open(8, sealed); err == nil {
		t.Fatal("a secret sealed for app 7 opens for app 8")
	}
	if got, err := k.open(7, "plain-secret"); err != nil || got != "plain-secret" || k.isCurrent("plain-secret") {
		t.Fatalf("plain secret: %q, %v", got, err)
	}
	oldOnly, _ := ParseWebhookKeys("old:" + key("o"))
	byOld, _ := oldOnly.seal(7, "whsec")
	if got, err := k.open(7, byOld); err != nil || got != "whsec" || k.isCurrent(byOld) {
		t.Fatalf("a secret sealed with an older key: %q, %v", got, err)
	}
	if _, err := oldOnly.open(7, sealed); err == nil {
		t.Fatal("a secret sealed with a key not given opens")
	}
	var none *WebhookKeys
	if s, _ := none.seal(7, "whsec"); s != "whsec" {
		t.Fatalf("without keys the secret is stored as %q", s)
	}
	if _, err := none.open(7, sealed); err == nil {
		t.Fatal("without keys a sealed secret opens")
	}
	if k, err := ParseWebhookKeys("  "); k != nil || err != nil {
		t.Fatalf("empty spec: %v %v", k, err)
	}
	for _, bad := range []string{"nokey", "k:" + base64.StdEncoding.EncodeToString([]byte("short")), "a b:" + key("x"),
		"k:" + key("a") + ",k:" + key("b"), "k:not base64!"} {
		if _, err := ParseWebhookKeys(bad); err == nil {
			t.Errorf("ParseWebhookKeys(%q) took it", bad)
		}
	}
}
