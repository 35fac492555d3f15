package webhook_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"showcase/webhook"
)

func TestPublicAddress(t *testing.T) {
	for addr, want := range map[string]bool{
		"93.184.216.34": true, "8.8.8.8": true, "2606:4700:4700::1111": true, "172.32.0.1": true,
		"127.0.0.1": false, "127.9.9.9": false, "::1": false, "10.0.0.1": false, "172.16.5.4": false,
		"192.168.0.1": false, "fd12:3456::1": false, "169.254.169.254": false, "fe80::1": false,
		"0.0.0.0": false, "::": false, "0.1.2.3": false, "224.0.0.1": false, "ff02::1": false,
		"100.64.0.1": false, "100.127.255.254": false, "255.255.255.255": false, "198.18.0.1": false,
		"::ffff:127.0.0.1": false, "::ffff:10.0.0.1": false, "64:ff9b::7f00:1": false, "2002:7f00:1::": false,
		// IPv4 inside IPv6: IPv4-compatible, NAT64 (well-known and local-use),
		// 6to4, Teredo and the rest of 2001::/23, SIIT.
		"::127.0.0.1": false, "::a9fe:a9fe": false, "::10.0.0.1": false, "::8.8.8.8": false,
		"64:ff9b::a9fe:a9fe": false, "64:ff9b::808:808": false, "64:ff9b:1::a00:1": false,
		"2002:a00:1::1": false, "2002:a9fe:a9fe::1": false, "2002:808:808::1": false,
		"2001::1": false, "2001:0:4136:e378:8000:63bf:3fff:fdd2": false, "2001:2::1": false, "2001:1ff::1": false,
		"::ffff:0:a00:1": false, "::ffff:0:808:808": false, "2001:db8::1": false, "3fff::1": false,
		// A zoned address names a local interface.
		"2606:4700:4700::1111%eth0": false, "::7f00:1%lo": false,
		// Public IPv6 just past the blocked ranges.
		"2001:200::1": true, "2001:4860:4860::8888": true, "2003::1": true,
	} {
		if got := webhook.PublicAddress(netip.MustParseAddr(addr)); got != want {
			t.Errorf("PublicAddress(%s) = %v, want %v", addr, got, want)
		}
	}
}

func TestCheckURL(t *testing.T) {
	ctx := context.Background()
	prod, dev := webhook.Policy{Production: true}, webhook.Policy{}
	for _, raw := range []string{"https://93.184.216.34/hooks", "https://[2606:4700:4700::1111]:8443/x?y=1"} {
		if err := prod.CheckURL(ctx, raw); err != nil {
			t.Errorf("production refused %s: %v", raw, err)
		}
	}
	for _, raw := range []string{"http://93.184.216.34/", "https://localhost/", "https://127.0.0.1/", "https://10.0.0.8/",
		"https://[::1]/", "https://169.254.169.254/", "https://100.100.100.100/", "https://0.0.0.0/", "https://239.1.1.1/",
		"https://[::127.0.0.1]/", "https://[::a9fe:a9fe]/", "https://[::ffff:169.254.169.254]/", "https://[64:ff9b::a9fe:a9fe]/",
		"https://[64:ff9b:1::a00:1]/", "https://[2002:a9fe:a9fe::1]/", "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",
		"https://[2001::a9fe:a9fe]/", "https://[::7f00:1%25lo]/", "https://[2606:4700:4700::1111%25eth0]/",
		"https://no-such-host.invalid/", "https://a:b@93.184.216.34/", "https://93.184.216.34/#frag", "mailto:x@example.com", ""} {
		if err := prod.CheckURL(ctx, raw); err == nil {
			t.Errorf("production took %q", raw)
		}
	}
	for _, raw := range []string{"http://127.0.0.1:9999/hooks", "http://localhost/", "https://10.0.0.8/"} {
		if err := dev.CheckURL(ctx, raw); err != nil {
			t.Errorf("development refused %s: %v", raw, err)
		}
	}
	if err := dev.CheckURL(ctx, "ftp://127.0.0.1/"); err == nil {
		t.Error("development took ftp")
	}
}

// TestSignature pins the signature scheme the README documents.
func TestSignature(t *testing.T) {
	body := []byte(`{"id":"e1"}`)
	// printf '%s' '1700000000.{"id":"e1"}' | openssl dgst -sha256 -hmac secret
	const want = "46fc0b60e09563a94dea2fa3b7b63d83458dd87b30fac860dcbabac0df9bdbde"
	got := webhook.Sign("secret", "1700000000", body)
	if got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
	if !webhook.Verify("secret", "1700000000", body, got) || webhook.Verify("other", "1700000000", body, got) ||
		webhook.Verify("secret", "1700000001", body, got) || webhook.Verify("secret", "1700000000", []byte(`{"id":"e2"}`), got) {
		t.Fatal("Verify does not match Sign")
	}
	// During a rotation's overlap the header carries both signatures, the
	// new secret's first; either secret verifies, no other does.
	header := webhook.SignatureHeader("1700000000", body, "new", "secret")
	if header != webhook.Sign("new", "1700000000", body)+", "+want ||
		!webhook.Verify("new", "1700000000", body, header) || !webhook.Verify("secret", "1700000000", body, header) ||
		webhook.Verify("other", "1700000000", body, header) || !webhook.Verify("secret", "1700000000", body, want+","+want[:10]) {
		t.Fatalf("SignatureHeader = %q", header)
	}
	if h := webhook.SignatureHeader("1700000000", body, "secret", ""); h != want {
		t.Fatalf("SignatureHeader without a previous secret = %q", h)
	}
}

func TestRetrySchedule(t *testing.T) {
	s := webhook.Settings{RetryBase: 10 * time.Second}
	for attempt, want := range map[int]time.Duration{1: 10 * time.Second, 2: 20 * time.Second, 3: 40 * time.Second,
		9: 2560 * time.Second, 10: time.Hour, 30: time.Hour} {
		if got := s.RetryDelay(attempt); got != want {
			t.Errorf("RetryDelay(%d) = %v, want %v", attempt, got, want)
		}
	}
}
