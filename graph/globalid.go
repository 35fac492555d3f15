package graph

import (
	"bytes"
	"encoding/base64"
	"strconv"

	"showcase/store"
)

// Global ID type names. An ID is base64url("Type:123"): opaque to clients,
// self-describing for node(id:).
const (
	typeUser        = "User"
	typeShop        = "Shop"
	typeProduct     = "Product"
	typeVariant     = "ProductVariant"
	typeVideo       = "Video"
	typeLiveSession = "LiveSession"
	typeOrder       = "Order"
	typeCart        = "Cart"
	typeCartLine    = "CartLine"
	typeComment     = "Comment"
	typeApp         = "App"
	typeCampaign    = "Campaign"
	// Webhooks' objects are nodes to their own app only (auth.CanSeeWebhook).
	typeWebhookSubscription = "WebhookSubscription"
	typeWebhookDelivery     = "WebhookDelivery"
)

var knownTypes = map[string]bool{
	typeUser: true, typeShop: true, typeProduct: true, typeVariant: true, typeVideo: true, typeLiveSession: true,
	typeOrder: true, typeCart: true, typeCartLine: true, typeComment: true, typeApp: true, typeCampaign: true,
	typeMediaImage: true, typeProductVideo: true, typeCollection: true,
	typeShippingRate: true, typeTaxRate: true, typeMailingAddress: true, typeDeliveryGroup: true,
	typeWebhookSubscription: true, typeWebhookDelivery: true, typeDiscountCode: true,
}

// typeNames maps each known type name to itself, so that a decoded ID's
// type is named without a new string.
var typeNames = func() map[string]string {
	m := make(map[string]string, len(knownTypes))
	for t := range knownTypes {
		m[t] = t
	}
	return m
}()

// maxGlobalIDLength bounds the work decoding does on hostile input.
const maxGlobalIDLength = 64

// globalID encodes a type name and a database id.
func globalID(typeName string, id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(typeName + ":" + strconv.FormatInt(id, 10)))
}

// parseGlobalID decodes any global ID. A malformed one is BAD_USER_INPUT.
func parseGlobalID(gid string) (typeName string, id int64, err error) {
	// The error is built only for an ID that is wrong: every event of
	// recordEvents, and most fields' arguments, parse one.
	bad := func() error {
		return store.Errorf(store.EInvalid, "%q is not a valid ID", truncate(gid, maxGlobalIDLength))
	}
	if len(gid) == 0 || len(gid) > maxGlobalIDLength {
		return "", 0, bad()
	}
	var buf [maxGlobalIDLength]byte
	raw := buf[:base64.RawURLEncoding.DecodedLen(len(gid))]
	n, err := base64.RawURLEncoding.Strict().Decode(raw, []byte(gid))
	raw = raw[:n]
	// The decoder skips line breaks; only the canonical spelling of an ID is one.
	if err != nil || base64.RawURLEncoding.EncodedLen(n) != len(gid) {
		return "", 0, bad()
	}
	name, num, ok := bytes.Cut(raw, []byte(":"))
	if !ok {
		return "", 0, bad()
	}
	if typeName, ok = typeNames[string(name)]; !ok {
		return "", 0, bad()
	}
	id, err = strconv.ParseInt(string(num), 10, 64)
	if err != nil || id <= 0 || strconv.FormatInt(id, 10) != string(num) {
		return "", 0, bad()
	}
	return typeName, id, nil
}

// parseTypedID decodes a global ID that must be of one type. An ID of another
// type is as wrong as a malformed one.
func parseTypedID(gid, want string) (int64, error) {
	typeName, id, err := parseGlobalID(gid)
	if err != nil {
		return 0, err
	}
	if typeName != want {
		return 0, store.Errorf(store.EInvalid, "%q is not a %s ID", truncate(gid, maxGlobalIDLength), want)
	}
	return id, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
