package graph_test

import "testing"

// Campaign.figures promise apps: a platform app an admin made with
// metrics:read reads them, on every path (node, nodes, campaign(handle:),
// campaigns); a platform app without metrics:read, or any shop app
// (even an admin's, even with metrics:read), gets the campaign but null
// figures; an app with neither catalog:read nor metrics:read gets nothing.
func TestCampaignFiguresForApps(t *testing.T) {
	a := newTestAPI(t)
	w := newCampaignWorld(t, a, "appfigures")
	adminShop := a.shop(w.adminToken, "admin-own-shop")
	q := `query($id: ID!, $h: String!) { node(id: $id) { ... on Campaign { handle figures { orders } } }
		nodes(ids: [$id]) { ... on Campaign { handle figures { orders } } }
		campaign(handle: $h) { handle figures { orders } }
		campaigns(first: 5) { edges { node { handle figures { orders } } } } }`
	type seen struct {
		Handle  string
		Figures *struct{ Orders int }
	}
	for _, c := range []struct {
		name        string
		shopID      any
		scopes      []string
		sees, count bool
	}{
		{"PlatformMetrics", nil, []string{"metrics:read"}, true, true},
		{"PlatformCatalogAndMetrics", nil, []string{"catalog:read", "metrics:read"}, true, true},
		{"PlatformCatalog", nil, []string{"catalog:read"}, true, false},
		{"AdminsShopAppMetrics", adminShop, []string{"catalog:read", "metrics:read"}, true, false},
		{"PlatformOrders", nil, []string{"orders:read"}, false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			token, _ := a.appToken(w.adminToken, c.shopID, c.scopes)
			resp := a.post(token, q, map[string]any{"id": w.campaignID, "h": "appfigures"})
			if !c.sees {
				if resp.code() != "FORBIDDEN" {
					t.Fatalf("an app with %v: %+v", c.scopes, resp.Errors)
				}
				var out struct{ Node *seen }
				a.ok(token, `query($id: ID!) { node(id: $id) { ... on Campaign { handle } } }`, map[string]any{"id": w.campaignID}, &out)
				if out.Node != nil {
					t.Fatalf("an app with %v gets the campaign through node", c.scopes)
				}
				return
			}
			var out struct {
				Node      *seen
				Nodes     []*seen
				Campaign  *seen
				Campaigns struct{ Edges []struct{ Node seen } }
			}
			a.ok(token, q, map[string]any{"id": w.campaignID, "h": "appfigures"}, &out)
			if out.Node == nil || len(out.Nodes) != 1 || out.Nodes[0] == nil || out.Campaign == nil || len(out.Campaigns.Edges) != 1 {
				t.Fatalf("an app with %v: %+v", c.scopes, out)
			}
			for path, s := range map[string]*seen{"node": out.Node, "nodes": out.Nodes[0], "campaign": out.Campaign, "campaigns": &out.Campaigns.Edges[0].Node} {
				if (s.Figures != nil) != c.count {
					t.Errorf("an app with %v through %s: figures %v, want figures %v", c.scopes, path, s.Figures, c.count)
				}
			}
		})
	}
}
