package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// A discount code is a secret a shop hands out. cartDiscountCodesUpdate
// tells an unknown code (NOT_FOUND) from a known one, so every try of it
// draws from the address's small bucket of credential checks, for guests
// and people alike, and aliases are tries too: nobody can walk the space of
// codes at the general rate (20 a second). Removing every code tries none.
func TestDiscountCodeGuessesAreRateLimited(t *testing.T) {
	const setCodes = `mutation($c: ID!, $d: [String!]!) { cartDiscountCodesUpdate(cartId: $c, discountCodes: $d) { userErrors { field code } } }`
	t.Run("Guest", func(t *testing.T) {
		base, _, variant, _, _ := guestFixture(t, map[string]string{"AUTH_RATE_LIMIT_PERIOD": "1h"})
		cart := createGuestCart(t, base, variant, 1) // check 1
		for i := 0; i < 4; i++ {                     // checks 2 to 5
			r := guestPost(t, base, "", setCodes, map[string]any{"c": cart.ID, "d": []string{fmt.Sprintf("GUESS%d", i)}}).mustOK(t, "guess")
			if !strings.Contains(r.Raw, "NOT_FOUND") {
				t.Fatalf("guess %d: %s", i, r.Raw)
			}
		}
		// Taking every code off is no guess.
		guestPost(t, base, "", setCodes, map[string]any{"c": cart.ID, "d": []string{}}).mustOK(t, "remove codes")
		r := guestPost(t, base, "", setCodes, map[string]any{"c": cart.ID, "d": []string{"GUESS9"}})
		if r.Status != http.StatusTooManyRequests || r.code() != "RATE_LIMITED" {
			t.Fatalf("sixth check (a guess): status %d: %s", r.Status, r.Raw)
		}
	})
	t.Run("Person", func(t *testing.T) {
		base, _, variant, _, _ := guestFixture(t, map[string]string{"AUTH_RATE_LIMIT_PERIOD": "1h"})
		token := signUp(t, base, "guesser@example.com", "guesser", nil) // check 1
		r := guestPost(t, base, token, `mutation($l: [CartLineInput!]!) { cartLinesAdd(lines: $l) { cart { id } userErrors { code } } }`,
			map[string]any{"l": []map[string]any{{"variantId": variant, "quantity": 1}}}).mustOK(t, "cartLinesAdd")
		var added struct{ Cart struct{ ID string } }
		r.field(t, "cartLinesAdd", &added)
		for i := 0; i < 4; i++ { // checks 2 to 5
			guestPost(t, base, token, setCodes, map[string]any{"c": added.Cart.ID, "d": []string{fmt.Sprintf("GUESS%d", i)}}).mustOK(t, "guess")
		}
		r = guestPost(t, base, token, setCodes, map[string]any{"c": added.Cart.ID, "d": []string{"GUESS9"}})
		if r.Status != http.StatusTooManyRequests || r.code() != "RATE_LIMITED" {
			t.Fatalf("sixth check (a person's guess): status %d: %s", r.Status, r.Raw)
		}
	})
	t.Run("Aliases", func(t *testing.T) {
		base, _, variant, _, _ := guestFixture(t, map[string]string{"AUTH_RATE_LIMIT_PERIOD": "1h"})
		cart := createGuestCart(t, base, variant, 1) // check 1
		var b strings.Builder
		b.WriteString("mutation($c: ID!) {")
		for i := 0; i < 5; i++ {
			fmt.Fprintf(&b, ` g%d: cartDiscountCodesUpdate(cartId: $c, discountCodes: ["GUESS%d"]) { userErrors { code } }`, i, i)
		}
		b.WriteString(" }")
		r := guestPost(t, base, "", b.String(), map[string]any{"c": cart.ID})
		if r.Status != http.StatusTooManyRequests || r.code() != "RATE_LIMITED" {
			t.Fatalf("five aliased guesses after a cartCreate: status %d: %s", r.Status, r.Raw)
		}
	})
}
