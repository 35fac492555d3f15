package graph_test

import (
	"encoding/json"
	"sort"
	"testing"
)

// discountCode makes a 10% code of the shop as token (its owner) and
// returns its ID.
func (a *testAPI) discountCode(token, shopID, code string) string {
	a.t.Helper()
	var out struct {
		DiscountCodeCreate struct {
			DiscountCode *struct{ ID string }
			UserErrors   []any
		}
	}
	a.ok(token, `mutation($s: ID!, $c: String!) { discountCodeCreate(shopId: $s, input: {code: $c, percentBps: 1000}) {
		discountCode { id } userErrors { message } } }`, map[string]any{"s": shopID, "c": code}, &out)
	if out.DiscountCodeCreate.DiscountCode == nil {
		a.t.Fatalf("discountCodeCreate %s: %+v", code, out.DiscountCodeCreate.UserErrors)
	}
	return out.DiscountCodeCreate.DiscountCode.ID
}

// TestDiscountCodeNodeAgreesWithShopDiscountCodes: for every kind of
// caller, node(id:) and nodes(ids:) show a discount code exactly when
// Shop.discountCodes lists it (auth.CanSeeDiscountCodes: the shop's owner,
// admins and their platform apps, the shop's apps with catalog:read or
// catalog:write). Everyone else gets null without an error, the same
// answer as for an ID that names no code, so a lookup never tells that a
// code exists. Callers whose scopes do not reach shop(handle:) reach a code
// only through the discount code mutations (catalog:write): for them the
// root path is discountCodeUpdate's payload. node and nodes ask an app for
// a read scope: an app with catalog:write and no read scope is refused
// them (FORBIDDEN) whatever the ID, so its answer tells nothing either;
// one with catalog:write and content:read gets the code through node.
func TestDiscountCodeNodeAgreesWithShopDiscountCodes(t *testing.T) {
	a := newTestAPI(t)
	w := newAccessWorld(a)
	code := w.ids["DiscountCode"]
	otherShopsCode := a.discountCode(w.other.sellerToken, w.other.shopID, "OTHER10")
	unknown := globalIDOf("DiscountCode", 1<<40)
	w.tokens["appWriteContentRead"], _ = a.appToken(w.own.sellerToken, w.own.shopID, []string{"catalog:write", "content:read"})
	callers := append(append([]string{}, callerNames...), "appWriteContentRead")
	wantVisible := map[string]bool{"owner": true, "admin": true, "appCatalogRead": true, "appWriteOnly": true, "appWriteContentRead": true, "platformApp": true}
	// noNode: callers node and nodes refuse whatever the ID.
	noNode := map[string]bool{"appWriteOnly": true}

	type codeNode struct {
		ID   string
		Code string
	}
	var wrong []string
	for _, caller := range callers {
		token := w.tokens[caller]
		if noNode[caller] {
			for _, id := range []string{code, otherShopsCode, unknown} {
				for _, q := range []string{`query($id: ID!) { node(id: $id) { id } }`, `query($id: ID!) { nodes(ids: [$id]) { id } }`} {
					if resp := a.post(token, q, map[string]any{"id": id}); resp.code() != "FORBIDDEN" {
						wrong = append(wrong, caller+": "+q+" answers "+string(resp.Data)+" "+resp.code()+", want FORBIDDEN for every ID")
					}
				}
			}
		}
		// node: the code, another shop's code and an unknown ID.
		var node struct{ Mine, Other, Unknown *codeNode }
		resp := a.post(token, `query($a: ID!, $b: ID!, $c: ID!) {
			mine: node(id: $a) { id ... on DiscountCode { code } }
			other: node(id: $b) { id ... on DiscountCode { code } }
			unknown: node(id: $c) { id ... on DiscountCode { code } } }`,
			map[string]any{"a": code, "b": otherShopsCode, "c": unknown})
		wantNode := wantVisible[caller] && !noNode[caller]
		if len(resp.Errors) > 0 && !noNode[caller] {
			wrong = append(wrong, caller+": node answers errors: "+resp.Errors[0].Message)
		}
		_ = json.Unmarshal(resp.Data, &node)
		if got := node.Mine != nil && node.Mine.ID == code && node.Mine.Code == "ACCESS10"; got != wantNode {
			wrong = append(wrong, caller+" through node: got "+visibleWord(got)+", want "+visibleWord(wantNode))
		}
		// Another shop's code: its own managers and admins see it.
		wantOther := map[string]bool{"admin": true, "platformApp": true, "otherSeller": true, "otherShopApp": true}[caller] && !noNode[caller]
		if got := node.Other != nil; got != wantOther {
			wrong = append(wrong, caller+" through node, other shop's code: got "+visibleWord(got)+", want "+visibleWord(wantOther))
		}
		if node.Unknown != nil {
			wrong = append(wrong, caller+": node shows an unknown code")
		}

		// nodes: the same three in one request, in order.
		var nodes struct{ Nodes []*codeNode }
		resp = a.post(token, `query($ids: [ID!]!) { nodes(ids: $ids) { id ... on DiscountCode { code } } }`,
			map[string]any{"ids": []string{code, otherShopsCode, unknown}})
		if len(resp.Errors) > 0 && !noNode[caller] {
			wrong = append(wrong, caller+": nodes answers errors: "+resp.Errors[0].Message)
		}
		_ = json.Unmarshal(resp.Data, &nodes)
		if noNode[caller] {
			// refused above, whatever the ID
		} else if len(nodes.Nodes) != 3 {
			wrong = append(wrong, caller+": nodes answers "+string(resp.Data))
		} else {
			if got := nodes.Nodes[0] != nil && nodes.Nodes[0].Code == "ACCESS10"; got != wantNode {
				wrong = append(wrong, caller+" through nodes: got "+visibleWord(got)+", want "+visibleWord(wantNode))
			}
			if got := nodes.Nodes[1] != nil && nodes.Nodes[1].Code == "OTHER10"; got != wantOther {
				wrong = append(wrong, caller+" through nodes, other shop's code: got "+visibleWord(got)+", want "+visibleWord(wantOther))
			}
			if nodes.Nodes[2] != nil {
				wrong = append(wrong, caller+": nodes shows an unknown code")
			}
		}

		// The root path: Shop.discountCodes lists the code.
		var root struct {
			Shop *struct {
				DiscountCodes *struct {
					Edges []struct{ Node codeNode }
				}
			}
		}
		resp = a.post(token, `query($h: String!) { shop(handle: $h) { discountCodes(first: 50) { edges { node { id code } } } } }`,
			map[string]any{"h": w.shopHandle})
		rootPath := "Shop.discountCodes"
		var listed bool
		if resp.code() == "FORBIDDEN" {
			// shop(handle:) is closed to the caller's scopes: the code
			// reaches it, if at all, as a mutation's payload.
			rootPath = "discountCodeUpdate"
			var upd struct {
				DiscountCodeUpdate *struct{ DiscountCode *codeNode }
			}
			resp = a.post(token, `mutation($id: ID!) { discountCodeUpdate(id: $id, input: {code: "ACCESS10", percentBps: 1000}) {
				discountCode { id code } } }`, map[string]any{"id": code})
			_ = json.Unmarshal(resp.Data, &upd)
			listed = upd.DiscountCodeUpdate != nil && upd.DiscountCodeUpdate.DiscountCode != nil && upd.DiscountCodeUpdate.DiscountCode.ID == code
		} else {
			if len(resp.Errors) > 0 {
				wrong = append(wrong, caller+": Shop.discountCodes answers errors: "+resp.Errors[0].Message)
			}
			_ = json.Unmarshal(resp.Data, &root)
			if root.Shop != nil && root.Shop.DiscountCodes != nil {
				for _, e := range root.Shop.DiscountCodes.Edges {
					listed = listed || e.Node.ID == code
				}
			}
		}
		if listed != wantVisible[caller] {
			wrong = append(wrong, caller+" through "+rootPath+": got "+visibleWord(listed)+", want "+visibleWord(wantVisible[caller]))
		}
	}
	sort.Strings(wrong)
	for _, msg := range wrong {
		t.Error(msg)
	}
}

// TestDiscountCodeNodesAreBatchLoaded: nodes(ids:) loads discount codes
// together, so three codes of two shops cost the statements one does.
func TestDiscountCodeNodesAreBatchLoaded(t *testing.T) {
	a := newTestAPIWith(t, countingStatements)
	own, other := a.fixture("batchcodes"), a.fixture("batchcodes2")
	admin := a.makeAdmin("codeadmin")
	ids := []string{
		a.discountCode(own.sellerToken, own.shopID, "ONE"),
		a.discountCode(own.sellerToken, own.shopID, "TWO"),
		a.discountCode(other.sellerToken, other.shopID, "THREE"),
	}
	const q = `query($ids: [ID!]!) { nodes(ids: $ids) { id ... on DiscountCode { code } } }`
	var out struct{ Nodes []*struct{ ID, Code string } }
	a.ok(admin, q, map[string]any{"ids": ids[:1]}, &out)
	one := a.statements.Load()
	a.ok(admin, q, map[string]any{"ids": ids}, &out)
	three := a.statements.Load()
	if three != one || len(out.Nodes) != 3 {
		t.Fatalf("nodes of 1 code → %d statements, of 3 → %d (%+v)", one, three, out.Nodes)
	}
	for i, n := range out.Nodes {
		if n == nil || n.ID != ids[i] {
			t.Fatalf("nodes[%d] = %+v, want %s", i, n, ids[i])
		}
	}
}
