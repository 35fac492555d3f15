package graph_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"showcase/graph"
)

const deviceFeedQuery = `query($first: Int, $after: String, $device: String) { feed(first: $first, after: $after, deviceId: $device) {
	edges { cursor node { __typename id } } pageInfo { hasNextPage endCursor } } }`

// deviceFeedPage reads one page of the feed as token (or signed out) naming
// device (none when ""), with the response's Age header.
func (w *interestWorld) deviceFeedPage(token, device string, first int, after string) (ids []int64, next, age string) {
	w.a.t.Helper()
	vars := map[string]any{"first": first}
	if device != "" {
		vars["device"] = device
	}
	if after != "" {
		vars["after"] = after
	}
	resp := w.a.post(token, deviceFeedQuery, vars)
	if len(resp.Errors) > 0 {
		w.a.t.Fatalf("feed: %+v", resp.Errors)
	}
	var p feedPage
	if err := json.Unmarshal(resp.Data, &p); err != nil {
		w.a.t.Fatal(err)
	}
	for _, e := range p.Feed.Edges {
		ids = append(ids, parseGID(w.a.t, e.Node.ID))
	}
	if p.Feed.PageInfo.HasNextPage {
		next = *p.Feed.PageInfo.EndCursor
	}
	return ids, next, resp.Header.Get("Age")
}

// deviceFeedWalk pages through the whole feed as deviceFeedPage does.
func (w *interestWorld) deviceFeedWalk(token, device string, first int) (all []int64, pages [][]int64) {
	w.a.t.Helper()
	after := ""
	for n := 0; n < 1000; n++ {
		ids, next, _ := w.deviceFeedPage(token, device, first, after)
		all, pages = append(all, ids...), append(pages, ids)
		if next == "" {
			return all, pages
		}
		after = next
	}
	w.a.t.Fatal("the feed does not end")
	return nil, nil
}

// The promise for signed-out viewers: a device learns by deviceId
// (recordEvents) and its next signed-out page is ranked by what it learned;
// the walk stays exact; without a deviceId the anonymous answer is still
// shared; logging in merges the device and the signed-in feed continues
// from its profile.
func TestSignedOutFeedUsesTheDevicesProfile(t *testing.T) {
	// A cache TTL longer than the test: any device answer shared with
	// another caller, or served stale after a signal, would show.
	a := newTestAPICached(t, time.Hour, func(*graph.Resolver) {})
	w := a.interestWorld(6)
	const device = "phone-beauty"

	anon, _, _ := w.deviceFeedPage("", "", 5, "")
	if _, _, age := w.deviceFeedPage("", "", 5, ""); age == "" {
		t.Fatal("the anonymous feed without a deviceId is no longer shared")
	}
	// Before any signal, the device's page is the anonymous ranking's
	// (discovery slots aside, whose order is each profile's own).
	fresh, _, _ := w.deviceFeedPage("", device, 5, "")
	if fresh[0] != anon[0] {
		t.Fatalf("a device without signals leads with %d, the anonymous feed with %d", fresh[0], anon[0])
	}

	// The device watches one snacks video to the end, shares another and
	// says it is not interested in a fitness video. (Snacks, the topic
	// published last, does not lead the anonymous feed.)
	if w.topicOf[anon[0]] == "snacks" {
		t.Fatalf("the anonymous feed leads with snacks: %v", w.topics(anon))
	}
	sk, fit := w.videos["snacks"], w.videos["fitness"]
	w.send("", device, view(sk[0], 30000), event("SHARE", sk[1]), event("NOT_INTERESTED", fit[0]))

	page, _, age := w.deviceFeedPage("", device, 5, "")
	if age != "" {
		t.Fatal("a device's feed was answered from the shared cache")
	}
	if w.topicOf[page[0]] != "snacks" {
		t.Fatalf("after snacks signals the device's page leads with %v", w.topics(page))
	}
	if again, _, age := w.deviceFeedPage("", "", 5, ""); age == "" || !slices.Equal(again, anon) {
		t.Fatalf("the anonymous feed changed or stopped being shared after a device's signals: %v (Age %q), was %v", again, age, anon)
	}
	// Another device learns nothing from this one: it leads as a device
	// never seen does (the ranking now, views counted meanwhile included).
	unseen := 0
	nobodyFirst := func() int64 {
		unseen++
		ids, _, _ := w.deviceFeedPage("", fmt.Sprintf("unseen-%d", unseen), 5, "")
		return ids[0]
	}
	if other, _, _ := w.deviceFeedPage("", "tablet-other", 5, ""); other[0] != nobodyFirst() {
		t.Fatalf("another device's page leads with %d (%s)", other[0], w.topicOf[other[0]])
	}

	// The whole signed-out walk: exact (no repeat, nothing skipped but what
	// the device watched to the end or dismissed), the excluded never shown.
	all, pages := w.deviceFeedWalk("", device, 4)
	seen := map[int64]bool{}
	for _, id := range all {
		if seen[id] {
			t.Fatalf("the device's walk repeats %d: %v", id, pages)
		}
		seen[id] = true
	}
	if seen[sk[0]] || seen[fit[0]] {
		t.Fatalf("the device is shown what it watched to the end (%v) or dismissed (%v)", seen[sk[0]], seen[fit[0]])
	}
	if want := len(w.topicOf) - 2; len(all) != want {
		t.Fatalf("the device's walk holds %d contents, want %d (all but the two excluded)", len(all), want)
	}

	// A signal sent between two pages moves the rest of the walk (the tail
	// is re-ranked for the device's profile), still without a repeat.
	first, cursor, _ := w.deviceFeedPage("", device, 5, "")
	w.send("", device, event("SHARE", w.videos["gadgets"][0]), event("SHARE", w.videos["gadgets"][1]), event("SHARE", w.videos["gadgets"][2]))
	next, _, _ := w.deviceFeedPage("", device, 5, cursor)
	if w.topicOf[next[0]] != "gadgets" {
		t.Fatalf("after gadgets signals the device's next page is %v", w.topics(next))
	}
	for _, id := range next {
		if slices.Contains(first, id) {
			t.Fatalf("the next page repeats %d", id)
		}
	}

	// A deviceId is 1 to 100 characters.
	for _, bad := range []string{"", string(make([]byte, 101))} {
		resp := a.post("", deviceFeedQuery, map[string]any{"first": 5, "device": bad})
		if resp.code() != "BAD_USER_INPUT" {
			t.Fatalf("deviceId of %d characters: %+v", len(bad), resp.Errors)
		}
	}

	// Signed in, the account's profile ranks, whatever deviceId is sent.
	token, _ := a.user("someone", false)
	own, _, _ := w.deviceFeedPage(token, "", 5, "")
	withDevice, _, _ := w.deviceFeedPage(token, device, 5, "")
	if !slices.Equal(own, withDevice) {
		t.Fatalf("a signed-in person's feed with the device's id %v differs from their own %v", withDevice, own)
	}

	// Signing up with the device merges its profile; the signed-in feed
	// continues from it: snacks (or gadgets) first, the excluded still left out.
	var up struct {
		SignUp struct {
			Token      string
			UserErrors []userError
		}
	}
	a.ok("", `mutation($d: String) { signUp(input: { email: "beauty@example.com", password: "password-1", handle: "beauty", displayName: "B", deviceId: $d }) {
		token userErrors { code message } } }`, map[string]any{"d": device}, &up)
	if up.SignUp.Token == "" {
		t.Fatalf("signUp: %+v", up.SignUp.UserErrors)
	}
	signedIn, _ := w.deviceFeedWalk(up.SignUp.Token, "", 5)
	if top := w.topicOf[signedIn[0]]; top != "gadgets" && top != "snacks" {
		t.Fatalf("the signed-in feed after the merge leads with %s: %v", top, w.topics(signedIn[:5]))
	}
	if slices.Contains(signedIn, sk[0]) || slices.Contains(signedIn, fit[0]) {
		t.Fatal("after the merge the account is shown what the device watched to the end or dismissed")
	}
	// The device's profile is emptied: signed out, it ranks as nobody again.
	if after, _, _ := w.deviceFeedPage("", device, 5, ""); after[0] != nobodyFirst() {
		t.Fatalf("after the merge the device still ranks by its profile: %v", w.topics(after))
	}
}
