// Package webhook sends apps' webhook deliveries: the rules a callback URL
// must follow, the signature, and the worker every replica runs. What is
// sent, to whom and when is in the store (store/webhooks.go).
package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"syscall"

	"showcase/store"
)

// blockedPrefixes are the networks a production webhook may never reach,
// besides those netip classifies (loopback, private, link-local, multicast,
// unspecified): they lead into the operator's or the carrier's network, or
// carry an IPv4 address inside an IPv6 one (IPv4-compatible, NAT64, 6to4,
// Teredo, SIIT), which a translator or tunnel on the way may turn into a
// private IPv4 address. Those are blocked whole rather than unwrapped: no
// legitimate receiver needs one.
var blockedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT (RFC 6598)
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and broadcast
	netip.MustParsePrefix("64:ff9b::/96"),    // NAT64: an IPv4 address in disguise
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
	netip.MustParsePrefix("2002::/16"),       // 6to4: an IPv4 address in disguise
	netip.MustParsePrefix("fec0::/10"),       // deprecated site-local
	netip.MustParsePrefix("100::/64"),        // discard-only
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("::ffff:0:0:0/96"), // SIIT-translated
	netip.MustParsePrefix("::/96"),           // IPv4-compatible (deprecated), :: and ::1 included
	netip.MustParsePrefix("2001::/23"),       // IETF protocol assignments, Teredo (2001::/32) included
	netip.MustParsePrefix("3fff::/20"),       // documentation (RFC 9637)
}

// PublicAddress reports whether ip is an address a production webhook may
// be sent to: not loopback, link-local, private, unspecified, multicast,
// carrier-grade NAT or otherwise reserved (IPv4-mapped IPv6 addresses are
// judged as the IPv4 address they carry). An address with an IPv6 zone
// (fe80::1%eth0) is never public: a zone names a local interface, and
// netip.Prefix.Contains matches no zoned address.
func PublicAddress(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.Zone() != "" || ip.IsLoopback() || ip.IsPrivate() || ip.IsUnspecified() || ip.IsMulticast() ||
		ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() {
		return false
	}
	for _, p := range blockedPrefixes {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// Policy says which callback URLs are allowed. The zero value is
// development's: http or https to any address, loopback included (a receiver
// on the developer's machine). Production allows https only and never an
// address PublicAddress refuses, both when an app subscribes (the host's
// addresses as resolved then) and when a delivery connects (the address
// actually dialled), so a name that resolves elsewhere later (DNS
// rebinding) still cannot reach the internal network.
type Policy struct {
	Production bool
	// Resolver looks host names up (net.DefaultResolver when nil).
	Resolver *net.Resolver
}

// ErrBlockedAddress is returned when a production delivery would connect to
// an address PublicAddress refuses.
var ErrBlockedAddress = errors.New("the callback URL resolves to an address webhooks may not reach")

// CheckURL validates a callback URL when an app subscribes; the error is a
// BAD_USER_INPUT field error on callbackUrl, saying what is wrong.
func (p Policy) CheckURL(ctx context.Context, raw string) error {
	bad := func(format string, args ...any) *store.Error {
		return store.FieldErrorf(store.EInvalid, "callbackUrl", format, args...)
	}
	if len(raw) > store.MaxWebhookURLLength {
		return bad("the callback URL is longer than %d characters", store.MaxWebhookURLLength).Because(store.ReasonTooLong)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return bad("the callback URL is not an absolute URL")
	}
	if u.User != nil {
		return bad("the callback URL may not carry a user name or password")
	}
	if u.Fragment != "" {
		return bad("the callback URL may not carry a fragment")
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && !p.Production:
	case p.Production:
		return bad("the callback URL must use https")
	default:
		return bad("the callback URL must use http or https")
	}
	if !p.Production {
		return nil
	}
	host := u.Hostname()
	if ip, err := netip.ParseAddr(host); err == nil {
		if !PublicAddress(ip) {
			return bad("the callback URL's address %s is not a public address", ip)
		}
		return nil
	}
	addrs, err := p.resolver().LookupNetIP(ctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		return bad("the callback URL's host %q does not resolve", host)
	}
	for _, a := range addrs {
		if !PublicAddress(a) {
			return bad("the callback URL's host %q resolves to %s, not a public address", host, a.Unmap())
		}
	}
	return nil
}

func (p Policy) resolver() *net.Resolver {
	if p.Resolver != nil {
		return p.Resolver
	}
	return net.DefaultResolver
}

// dialControl is the net.Dialer Control of production deliveries: it runs
// after the name is resolved and before connecting, on the address actually
// dialled, and refuses any that PublicAddress refuses.
func dialControl(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrBlockedAddress, address)
	}
	if !PublicAddress(ap.Addr()) {
		return fmt.Errorf("%w: %s", ErrBlockedAddress, ap.Addr().Unmap())
	}
	return nil
}
