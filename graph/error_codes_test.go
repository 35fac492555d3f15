package graph_test

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// One refused price is one accurate error: a malformed amount in the shop's
// currency is not also a currency mismatch, and a malformed currency code is
// reported on the currency code (once), not on the amount.
func TestRefusedPriceGetsOneError(t *testing.T) {
	a := newTestAPI(t)
	f := a.fixture("prices")
	for _, c := range []struct {
		name, amount, currency string
		want                   []userError
	}{
		{"MalformedAmount", "12,50", "USD", []userError{{Field: []string{"input", "variants", "0", "price", "amount"}, Code: "INVALID"}}},
		{"TooPrecise", "1.999", "USD", []userError{{Field: []string{"input", "variants", "0", "price", "amount"}, Code: "INVALID"}}},
		{"MalformedCurrency", "12.50", "usd", []userError{{Field: []string{"input", "variants", "0", "price", "currencyCode"}, Code: "INVALID"}}},
		{"OtherCurrency", "12.50", "EUR", []userError{{Field: []string{"input", "variants", "0", "price", "currencyCode"}, Code: "CURRENCY_MISMATCH"}}},
		{"BothWrong", "abc", "EUR", []userError{
			{Field: []string{"input", "variants", "0", "price", "amount"}, Code: "INVALID"},
			{Field: []string{"input", "variants", "0", "price", "currencyCode"}, Code: "CURRENCY_MISMATCH"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out struct {
				CreateProduct struct {
					Product    *struct{ ID string }
					UserErrors []userError
				}
			}
			a.ok(f.sellerToken, createProductMutation, map[string]any{"in": map[string]any{
				"shopId": f.shopID, "title": "Priced " + c.name,
				"variants": []map[string]any{{"sku": "P-" + c.name, "title": "One", "price": map[string]any{"amount": c.amount, "currencyCode": c.currency}, "stock": 1}},
			}}, &out)
			got := out.CreateProduct.UserErrors
			if out.CreateProduct.Product != nil || len(got) != len(c.want) {
				t.Fatalf("userErrors = %+v, want %+v", got, c.want)
			}
			for i := range got {
				if strings.Join(got[i].Field, ".") != strings.Join(c.want[i].Field, ".") || got[i].Code != c.want[i].Code {
					t.Fatalf("userErrors = %+v, want %+v", got, c.want)
				}
			}
		})
	}
}

// A buyer retrying the cancellation of an order already cancelled, or
// cancelling one that has shipped, is told the order's state
// (INVALID_TRANSITION), not FORBIDDEN: they may cancel their order, just not
// now. Someone else's order stays invisible.
func TestBuyerCancellationRefusalsAreInvalidTransitions(t *testing.T) {
	a := newTestAPI(t)
	shop := a.fixture("cancels")
	buyer, _ := a.user("canceller", false)
	stranger, _ := a.user("stranger", false)

	cancelled := map[string]any{"id": a.buy(buyer, "c1", shop.variantIDs[0], 1)}
	if o, resp := a.change(buyer, cancelMutation, cancelled); len(resp.Errors) > 0 || o.Order == nil {
		t.Fatalf("first cancel = %+v %+v", o, resp.Errors)
	}
	for i := 0; i < 2; i++ {
		o, resp := a.change(buyer, cancelMutation, cancelled)
		if len(resp.Errors) > 0 || o.Order != nil || len(o.UserErrors) != 1 || o.UserErrors[0].Code != "INVALID_TRANSITION" {
			t.Fatalf("retried cancel = %+v, errors %+v", o, resp.Errors)
		}
	}

	shipped := map[string]any{"id": a.buy(buyer, "c2", shop.variantIDs[0], 1)}
	if o, resp := a.change(shop.sellerToken, fulfillMutation, shipped); len(resp.Errors) > 0 || o.Order == nil {
		t.Fatalf("fulfil = %+v %+v", o, resp.Errors)
	}
	o, resp := a.change(buyer, cancelMutation, shipped)
	if len(resp.Errors) > 0 || o.Order != nil || len(o.UserErrors) != 1 || o.UserErrors[0].Code != "INVALID_TRANSITION" ||
		!strings.Contains(o.UserErrors[0].Message, "FULFILLED") {
		t.Fatalf("cancel after shipping = %+v, errors %+v", o, resp.Errors)
	}
	if _, resp := a.change(stranger, cancelMutation, shipped); resp.code() != "NOT_FOUND" {
		t.Fatalf("a stranger's cancel = %+v", resp.Errors)
	}
	if stock := a.stock(shop.variantIDs[0]); stock != 4 {
		t.Fatalf("stock = %d, want 4 (one unit back from the cancelled order, one shipped)", stock)
	}
}

// codeLiteral finds the upper-case codes in source lines: a string literal
// of capitals and underscores.
var codeLiteral = regexp.MustCompile(`"([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*)"`)

// emittedCodes greps the server's own code (graph, auth, server; not tests,
// not generated code, not the settings' names) for every extensions.code it
// can send: any such literal with an underscore, or on a line that speaks of
// a code, except the schema's own enum values (arguments and fields, not
// errors).
func emittedCodes(t *testing.T, notCodes map[string]bool) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, dir := range []string{".", "../auth", "../server"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, file := range files {
			base := filepath.Base(file)
			if strings.HasSuffix(base, "_test.go") || base == "generated.go" || base == "config.go" {
				continue
			}
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			for _, line := range strings.Split(string(src), "\n") {
				speaksOfCode := strings.Contains(strings.ToLower(line), "code")
				for _, m := range codeLiteral.FindAllStringSubmatch(line, -1) {
					c := m[1]
					if notCodes[c] || (!strings.Contains(c, "_") && !speaksOfCode) || len(c) < 4 {
						continue
					}
					out[c] = append(out[c], file)
				}
			}
		}
	}
	// Codes gqlgen itself sends: documents that do not parse or validate,
	// and an automatic persisted query whose hash is unknown.
	for _, c := range []string{errcode.ParseFailed, errcode.ValidationFailed, "PERSISTED_QUERY_NOT_FOUND"} {
		out[c] = append(out[c], "gqlgen")
	}
	return out
}

// Every code a client can receive is listed in the README's "Error codes"
// section: each value of the schema's UserErrorCode enum, and each
// extensions.code the server (or gqlgen for it) can send. A new code
// without a README entry fails here.
func TestEveryErrorCodeIsInTheReadme(t *testing.T) {
	schemaSrc, err := os.ReadFile("../schema.graphqls")
	if err != nil {
		t.Fatal(err)
	}
	schema, gerr := gqlparser.LoadSchema(&ast.Source{Name: "schema.graphqls", Input: string(schemaSrc)})
	if gerr != nil {
		t.Fatal(gerr)
	}
	userCodes := map[string]bool{}
	notCodes := map[string]bool{}
	for name, def := range schema.Types {
		if def.Kind != ast.Enum || def.BuiltIn {
			continue
		}
		for _, v := range def.EnumValues {
			if name == "UserErrorCode" {
				userCodes[v.Name] = true
			} else {
				notCodes[v.Name] = true
			}
		}
	}
	if len(userCodes) < 20 {
		t.Fatalf("UserErrorCode has %d values; the schema was not read", len(userCodes))
	}
	emitted := emittedCodes(t, notCodes)
	for _, c := range []string{"FORBIDDEN", "INTERNAL", "UNAUTHENTICATED", "RATE_LIMITED", "SERVICE_UNAVAILABLE"} {
		if emitted[c] == nil {
			t.Fatalf("the source scan missed %s; found %v", c, keys(emitted))
		}
	}

	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	section := markdownSection(string(readme), "## Error codes")
	if section == "" {
		t.Fatal(`README.md has no "## Error codes" section`)
	}
	for c := range userCodes {
		if !strings.Contains(section, "`"+c+"`") {
			t.Errorf("UserErrorCode %s is not listed in the README's Error codes", c)
		}
	}
	for c, where := range emitted {
		if !strings.Contains(section, "`"+c+"`") {
			t.Errorf("extensions.code %s (sent from %v) is not listed in the README's Error codes", c, where)
		}
	}
	if !strings.Contains(section, "retryable") {
		t.Error("the README's Error codes do not say which errors carry extensions.retryable")
	}
}

// markdownSection returns a README section from its heading to the next
// heading of the same level.
func markdownSection(doc, heading string) string {
	i := strings.Index(doc, "\n"+heading+"\n")
	if i < 0 {
		return ""
	}
	rest := doc[i+len(heading)+2:]
	if j := strings.Index(rest, "\n## "); j >= 0 {
		rest = rest[:j]
	}
	return rest
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// A checkout's refused input gets one error, not one per line or one per
// rule it breaks: an unknown sourceContentId is reported once however many
// lines it would have applied to, and a product no longer sold is not also
// "not a product card on that content".
func TestCheckoutRefusalIsOneErrorPerInput(t *testing.T) {
	a := newTestAPI(t)
	shop := a.fixture("onceshop")
	buyer, _ := a.user("oncebuyer", false)
	other := a.product(shop.sellerToken, shop.shopID, "other", map[string]any{"variants": []map[string]any{
		{"sku": "OTHER-1", "title": "One", "price": map[string]any{"amount": "5.00", "currencyCode": "USD"}, "stock": 9}}})
	otherVariant := other.Variants.Edges[0].Node.ID
	var pv struct {
		PublishVideo struct{ Video struct{ ID string } }
	}
	a.ok(shop.sellerToken, publishVideoMutation, videoInput(shop.productID), &pv)

	checkout := func(key, source string, lines ...map[string]any) []userError {
		t.Helper()
		in := checkoutInput(key, "tok_ok", lines...)
		in["in"].(map[string]any)["sourceContentId"] = source
		var out checkoutOut
		a.ok(buyer, checkoutMutation, in, &out)
		return out.Checkout.UserErrors
	}
	unknownVideo := base64.RawURLEncoding.EncodeToString([]byte("Video:987654321"))
	got := checkout("once-1", unknownVideo, line(shop.variantIDs[0], 1), line(otherVariant, 1))
	if len(got) != 1 || strings.Join(got[0].Field, ".") != "input.sourceContentId" || got[0].Code != "NOT_FOUND" {
		t.Fatalf("unknown source content: %+v, want one NOT_FOUND on input.sourceContentId", got)
	}

	a.ok(shop.sellerToken, `mutation($id: ID!) { updateProduct(input: { id: $id, status: ARCHIVED }) { userErrors { code } } }`,
		map[string]any{"id": other.ID}, nil)
	got = checkout("once-2", pv.PublishVideo.Video.ID, line(otherVariant, 1))
	if len(got) != 1 || strings.Join(got[0].Field, ".") != "input.lines.0.variantId" || got[0].Code != "NOT_AVAILABLE" {
		t.Fatalf("archived product not on the content: %+v, want one NOT_AVAILABLE", got)
	}
}
