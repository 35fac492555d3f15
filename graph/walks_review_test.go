package graph_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
)

// TestFeedCursorTampered (review): a For You cursor whose fields were
// changed (Off out of range, a position past int4, another type, another
// viewer's) is refused with BAD_USER_INPUT and nothing internal.
func TestFeedCursorTampered(t *testing.T) {
	a := newTestAPIWith(t, reusingRankings)
	a.manyContents(30)
	token, _ := a.user("tamperer", false)
	other, _ := a.user("other-viewer", false)
	var p feedPage
	a.ok(token, feedPageQuery, map[string]any{"first": 10}, &p)
	var second feedPage
	a.ok(token, feedPageQuery, map[string]any{"first": 10, "after": *p.Feed.PageInfo.EndCursor}, &second)
	var cur map[string]any
	raw, err := base64.RawURLEncoding.DecodeString(*second.Feed.PageInfo.EndCursor)
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // the walk id is past float64's integers
	if err != nil || dec.Decode(&cur) != nil {
		t.Fatalf("cursor %q: %v", *second.Feed.PageInfo.EndCursor, err)
	}
	t.Logf("second page's end cursor: %v", cur)
	tamper := func(changes map[string]any) string {
		c := map[string]any{}
		for k, v := range cur {
			c[k] = v
		}
		for k, v := range changes {
			c[k] = v
		}
		b, _ := json.Marshal(c)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	for _, c := range []struct {
		name, token, after string
	}{
		{"o negative", token, tamper(map[string]any{"o": -1})},
		{"o past p", token, tamper(map[string]any{"o": 1000})},
		{"o a string", token, tamper(map[string]any{"o": "x"})},
		{"p past int4", token, tamper(map[string]any{"p": int64(1) << 40, "o": 0})},
		{"another viewer", other, *second.Feed.PageInfo.EndCursor},
		{"anonymous", "", *second.Feed.PageInfo.EndCursor},
	} {
		resp := a.post(c.token, feedPageQuery, map[string]any{"first": 10, "after": c.after})
		if len(resp.Errors) != 1 {
			t.Errorf("%s: want one error, got %+v", c.name, resp.Errors)
			continue
		}
		e := resp.Errors[0]
		if e.Extensions["code"] != "BAD_USER_INPUT" || strings.Contains(strings.ToLower(e.Message), "sql") || strings.Contains(e.Message, "integer") {
			t.Errorf("%s: %+v", c.name, e)
		}
	}
}

// TestFeedEveryEdgeCursorContinues (review): continuing a walk from any
// edge's cursor of a middle page (not only the end cursor), in any order,
// after the walk was read to its end, yields the walk's other items once.
func TestFeedEveryEdgeCursorContinues(t *testing.T) {
	a := newTestAPIWith(t, reusingRankings)
	a.manyContents(30)
	token, _ := a.user("edge-walker", false)
	const total = 33
	page := func(after string) feedPage {
		vars := map[string]any{"first": 10}
		if after != "" {
			vars["after"] = after
		}
		var p feedPage
		a.ok(token, feedPageQuery, vars, &p)
		return p
	}
	rest := func(after string) []string {
		var out []string
		for after != "" {
			p := page(after)
			for _, e := range p.Feed.Edges {
				out = append(out, e.Node.ID)
			}
			after = ""
			if p.Feed.PageInfo.HasNextPage {
				after = *p.Feed.PageInfo.EndCursor
			}
		}
		return out
	}
	first := page("")
	second := page(*first.Feed.PageInfo.EndCursor)
	_ = rest(*second.Feed.PageInfo.EndCursor) // the walk read to its end
	var head []string
	for _, e := range first.Feed.Edges {
		head = append(head, e.Node.ID)
	}
	for k := len(second.Feed.Edges) - 1; k >= 0; k-- { // backwards: out of order
		walk := append([]string{}, head...)
		for _, e := range second.Feed.Edges[:k+1] {
			walk = append(walk, e.Node.ID)
		}
		walk = append(walk, rest(second.Feed.Edges[k].Cursor)...)
		seen := map[string]bool{}
		for _, id := range walk {
			if seen[id] {
				t.Fatalf("from edge %d of page 2: %s twice: %v", k, id, walk)
			}
			seen[id] = true
		}
		if len(walk) != total {
			t.Fatalf("from edge %d of page 2: %d items, want %d", k, len(walk), total)
		}
	}
}
