package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"showcase/server/demo"
	"showcase/store"
	"showcase/store/live"
	"showcase/store/storetest"
)

// readmeExamples returns the README's ```graphql blocks in order.
func readmeExamples(t *testing.T) []string {
	t.Helper()
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range regexp.MustCompile("(?s)```graphql\n(.*?)```").FindAllStringSubmatch(string(readme), -1) {
		out = append(out, m[1])
	}
	return out
}

// TestReadmeExamples runs every GraphQL example of the README, as written
// and in order, against a server with the demo data: as the user the README
// says, with the variables taken from earlier answers as the README says.
// Each must answer without errors and without userErrors.
func TestReadmeExamples(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds the demo data")
	}
	ctx := context.Background()
	dsn := storetest.DSN(t)
	db, err := store.Open(ctx, dsn, store.PoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := demo.Seed(ctx, db, demo.DefaultOptions()); err != nil {
		t.Fatal(err)
	}
	hubCtx, stopHub := context.WithCancel(ctx)
	defer stopHub()
	hub := live.NewHub(db, dsn)
	if err := hub.Start(hubCtx); err != nil {
		t.Fatal(err)
	}
	srv := testServer(t, db, testTokens(t), hub, nil)
	// The real server's tokens are the test's own: log in as the README says.
	var logIn string
	tokens := map[string]string{}
	login := func(email string) string {
		t.Helper()
		doc := strings.Replace(logIn, `"seller@showcase.dev"`, `"`+email+`"`, 1)
		var out struct{ LogIn struct{ Token string } }
		decode(t, run1(t, srv.URL, doc, nil, ""), &out)
		return out.LogIn.Token
	}
	vars := map[string]any{}

	type feedNode struct {
		Typename string `json:"__typename"`
		ID       string
		Status   string
		Products struct {
			Edges []struct {
				Node struct {
					ID       string
					Variants struct {
						Edges []struct {
							Node struct {
								ID               string
								AvailableForSale bool
							}
						}
					}
				}
			}
		}
	}
	steps := []struct {
		name, match, as string
		after           func(t *testing.T, data json.RawMessage)
	}{
		{"Feed", "feed(first:", "", func(t *testing.T, data json.RawMessage) {
			var out struct {
				Feed struct{ Edges []struct{ Node feedNode } }
			}
			decode(t, data, &out)
			for _, e := range out.Feed.Edges {
				n := e.Node
				if n.Typename == "Video" && vars["video"] == nil && len(n.Products.Edges) > 0 {
					p := n.Products.Edges[0].Node
					if len(p.Variants.Edges) > 0 && p.Variants.Edges[0].Node.AvailableForSale {
						vars["video"], vars["product"], vars["variant"] = n.ID, p.ID, p.Variants.Edges[0].Node.ID
						vars["id"] = p.ID
					}
				}
				if n.Typename == "LiveSession" && n.Status == "LIVE" && vars["session"] == nil {
					vars["session"] = n.ID
				}
			}
			for _, name := range []string{"video", "product", "variant", "session"} {
				if vars[name] == nil {
					t.Fatalf("the feed has no $%s as the README describes it", name)
				}
			}
		}},
		{"Search", "products(first: 5", "", nil},
		{"LogIn", "logIn(", "", func(t *testing.T, data json.RawMessage) {
			var out struct{ LogIn struct{ Token string } }
			decode(t, data, &out)
			tokens["seller"] = out.LogIn.Token
			tokens["buyer"] = login("demo@showcase.dev")
			tokens["admin"] = login("admin@showcase.dev")
		}},
		{"SellerShops", "viewer { handle shops(first: 5)", "seller", func(t *testing.T, data json.RawMessage) {
			var out struct {
				Viewer struct {
					Shops struct {
						Edges []struct{ Node struct{ ID string } }
					}
				}
			}
			decode(t, data, &out)
			if len(out.Viewer.Shops.Edges) == 0 {
				t.Fatal("the seller owns no shop")
			}
			vars["shopId"] = out.Viewer.Shops.Edges[0].Node.ID
		}},
		{"CreateProduct", "createProduct(", "seller", func(t *testing.T, data json.RawMessage) {
			var out struct {
				CreateProduct struct {
					Product struct {
						Variants struct {
							Edges []struct{ Node struct{ ID string } }
						}
					}
				}
			}
			decode(t, data, &out)
			if len(out.CreateProduct.Product.Variants.Edges) == 0 {
				t.Fatalf("createProduct = %s", data)
			}
			vars["hoodie"] = out.CreateProduct.Product.Variants.Edges[0].Node.ID
		}},
		{"ShopSales", "bySurface", "seller", nil},
		{"Checkout", "checkout(", "buyer", nil},
		{"RecordEvents", "recordEvents(", "", nil},
		{"VideoFigures", "video(id: $video)", "admin", nil},
		{"SortedProducts", "sortKey: PRICE", "", nil},
		{"Collection", "collection(handle:", "", nil},
		{"Search", "search(query:", "", func(t *testing.T, data json.RawMessage) {
			var out struct {
				Search struct {
					Edges []struct {
						Node struct {
							Typename string `json:"__typename"`
							Caption  string
						}
					}
				}
			}
			decode(t, data, &out)
			if len(out.Search.Edges) == 0 || out.Search.Edges[0].Node.Typename != "Video" || !strings.Contains(out.Search.Edges[0].Node.Caption, "精华") {
				t.Fatalf("searching the demo data for 精华 = %s, want a video whose caption has it first", data)
			}
		}},
		{"Recommendations", "productRecommendations(", "", nil},
		{"Node", "node(id: $id)", "", nil},
		{"Subscription", "subscription(", "", nil},
		{"Follow", "follow(id: $shopId)", "buyer", func(t *testing.T, data json.RawMessage) {
			var out struct {
				Follow struct {
					Node struct {
						FollowerCount int
						ViewerFollows bool
					}
				}
			}
			decode(t, data, &out)
			if out.Follow.Node.FollowerCount < 1 || !out.Follow.Node.ViewerFollows {
				t.Fatalf("follow = %+v", out)
			}
		}},
		{"FollowingFeed", "feed(kind: FOLLOWING", "buyer", func(t *testing.T, data json.RawMessage) {
			var out struct {
				Feed   struct{ Edges []any }
				Viewer struct{ Following struct{ Edges []any } }
			}
			decode(t, data, &out)
			if len(out.Feed.Edges) == 0 || len(out.Viewer.Following.Edges) == 0 {
				t.Fatalf("the demo buyer's FOLLOWING feed or following list is empty: %+v", out)
			}
		}},
		{"DiscountCodeCreate", "discountCodeCreate(", "seller", nil},
		{"CartWithHoodie", "cartLinesAdd(", "buyer", func(t *testing.T, data json.RawMessage) {
			var out struct {
				CartLinesAdd struct{ Cart struct{ ID string } }
			}
			decode(t, data, &out)
			vars["cartId"] = out.CartLinesAdd.Cart.ID
		}},
		{"CartDiscountCodes", "cartDiscountCodesUpdate(", "buyer", func(t *testing.T, data json.RawMessage) {
			var out struct {
				CartDiscountCodesUpdate struct {
					Cart struct {
						DiscountCodes []struct {
							Code       string
							Applicable bool
						}
						DiscountAllocations []struct {
							Code             string
							DiscountedAmount struct{ Amount string }
						}
					}
				}
			}
			decode(t, data, &out)
			c := out.CartDiscountCodesUpdate.Cart
			if len(c.DiscountCodes) != 1 || !c.DiscountCodes[0].Applicable || len(c.DiscountAllocations) != 1 ||
				c.DiscountAllocations[0].Code != "WELCOME10" || c.DiscountAllocations[0].DiscountedAmount.Amount != "4.90" {
				t.Fatalf("the code takes 10%% of the $49.00 hoodie: %s", data)
			}
		}},
		{"CampaignCreate", "campaignCreate(", "admin", func(t *testing.T, data json.RawMessage) {
			var out struct {
				CampaignCreate struct{ Campaign struct{ ID string } }
			}
			decode(t, data, &out)
			vars["campaign"] = out.CampaignCreate.Campaign.ID
			raw, err := base64.RawURLEncoding.DecodeString(vars["shopId"].(string))
			if err != nil {
				t.Fatal(err)
			}
			var variant int64
			if err := db.GetContext(ctx, &variant, `SELECT v.id FROM product_variants v JOIN products p ON p.id = v.product_id
				WHERE p.shop_id = $1 ORDER BY p.id, v.position, v.id LIMIT 1`, strings.TrimPrefix(string(raw), "Shop:")); err != nil {
				t.Fatal(err)
			}
			vars["shopVariant"] = base64.RawURLEncoding.EncodeToString([]byte("ProductVariant:" + strconv.FormatInt(variant, 10)))
		}},
		{"CampaignEnrol", "campaignEnrol(", "seller", nil},
		{"Campaigns", "campaigns(first:", "admin", func(t *testing.T, data json.RawMessage) {
			var out struct{ Campaigns struct{ Edges []any } }
			decode(t, data, &out)
			if len(out.Campaigns.Edges) == 0 {
				t.Fatalf("no campaigns: %s", data)
			}
		}},
	}
	examples := readmeExamples(t)
	if len(examples) != len(steps) {
		t.Errorf("the README has %d GraphQL examples and this test knows %d: say here how each new one runs", len(examples), len(steps))
	}
	for i, doc := range examples {
		if i >= len(steps) || !strings.Contains(doc, steps[i].match) {
			t.Fatalf("README example %d is not the expected %q:\n%s", i+1, steps[min(i, len(steps)-1)].match, doc)
		}
		step := steps[i]
		if step.name == "LogIn" {
			logIn = doc
		}
		t.Run(step.name, func(t *testing.T) {
			data := run1(t, srv.URL, doc, variablesFor(t, doc, vars), tokens[step.as])
			if step.after != nil {
				step.after(t, data)
			}
		})
	}
}

// variablesFor picks the variables a document declares from the known ones.
func variablesFor(t *testing.T, doc string, known map[string]any) map[string]any {
	t.Helper()
	parsed, err := parser.ParseQuery(&ast.Source{Input: doc})
	if err != nil {
		t.Fatalf("README example does not parse: %v\n%s", err, doc)
	}
	out := map[string]any{}
	for _, op := range parsed.Operations {
		for _, v := range op.VariableDefinitions {
			value, ok := known[v.Variable]
			if !ok {
				t.Fatalf("no $%s known for:\n%s", v.Variable, doc)
			}
			out[v.Variable] = value
		}
	}
	return out
}

// run1 runs one document and returns its data, failing on any error or
// userError. Subscriptions are read as an event stream up to their first
// event.
func run1(t *testing.T, base, doc string, variables map[string]any, token string) json.RawMessage {
	t.Helper()
	headers := map[string]string{}
	if token != "" {
		headers["Authorization"] = "Bearer " + token
	}
	var r reply
	if strings.HasPrefix(strings.TrimSpace(doc), "subscription") {
		r = firstEvent(t, base, queryBody(doc, variables), headers)
	} else {
		r = send(t, base, queryBody(doc, variables), headers)
	}
	if r.Status != http.StatusOK || len(r.Errors) > 0 {
		t.Fatalf("status %d: %s\n%s", r.Status, r.Raw, doc)
	}
	var data any
	decode(t, r.Data, &data)
	if path := userErrorsIn(data, "data"); path != "" {
		t.Fatalf("userErrors at %s: %s", path, r.Raw)
	}
	return r.Data
}

// firstEvent sends a subscription with Accept: text/event-stream and
// returns its first event.
func firstEvent(t *testing.T, base, body string, headers map[string]string) reply {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/graphql", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	lines := bufio.NewScanner(res.Body)
	event := ""
	for lines.Scan() {
		line := lines.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: ") && event == "next":
			r := reply{Status: res.StatusCode, ContentType: res.Header.Get("Content-Type"), Raw: []byte(strings.TrimPrefix(line, "data: "))}
			decode(t, r.Raw, &r)
			return r
		case event == "complete":
			t.Fatalf("the stream ended without an event")
		}
	}
	t.Fatalf("no event within 30 s: %v", lines.Err())
	return reply{}
}

// userErrorsIn returns the path of the first non-empty userErrors list.
func userErrorsIn(v any, path string) string {
	switch v := v.(type) {
	case map[string]any:
		for k, child := range v {
			if list, ok := child.([]any); ok && k == "userErrors" && len(list) > 0 {
				return path + "." + k
			}
			if p := userErrorsIn(child, path+"."+k); p != "" {
				return p
			}
		}
	case []any:
		for _, child := range v {
			if p := userErrorsIn(child, path+"[]"); p != "" {
				return p
			}
		}
	}
	return ""
}

func decode(t *testing.T, data []byte, out any) {
	t.Helper()
	if err := json.Unmarshal(data, out); err != nil {
		t.Fatalf("decode: %v: %s", err, data)
	}
}
