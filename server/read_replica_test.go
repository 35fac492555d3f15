package main

import (
	"database/sql"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"showcase/store/storetest"
)

// TestReadYourWritesAcrossProcesses runs two server processes on a primary
// with a streaming replica whose replay is paused: an account signed up and
// a shop created through process A are read back at once, by their writer,
// through process B (the read fence lives on the primary), while an
// anonymous reader of B still reads the replica, which has neither.
func TestReadYourWritesAcrossProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two servers, a primary and a replica")
	}
	pair := storetest.NewReplicated(t)
	bin, _ := buildServer(t)
	env := []string{"DATABASE_READ_URL=" + pair.ReplicaDSN, "DATABASE_READ_MAX_LAG=1h", "JWT_SECRET=" + strings.Repeat("r", 32)}
	a := startServerEnv(t, bin, pair.PrimaryDSN, env)
	debug := freeAddr(t)
	b := startServerEnv(t, bin, pair.PrimaryDSN, append(env, "DEBUG_ADDR="+debug))

	// Both processes measured the replica caught up before replay pauses
	// (one that starts against a paused replica behind the primary never
	// uses it).
	for _, p := range []*serverProcess{a, b} {
		for deadline := time.Now().Add(30 * time.Second); !strings.Contains(p.stdout.String()+p.stderr.String(), "read replica in use"); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("a process never took the replica into use:\n%s", p.stderr.String())
			}
		}
	}
	resp, err := http.Get("http://" + debug + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "\nshowcase_read_replica_in_use 1\n") || !strings.Contains(string(body), "\nshowcase_read_replica_lag_seconds ") {
		t.Errorf("/metrics lacks the read replica's state:\n%s", body)
	}
	replica, err := sql.Open("postgres", pair.ReplicaDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer replica.Close()
	if _, err := replica.Exec(`SELECT pg_wal_replay_pause()`); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var state string
		if err := replica.QueryRow(`SELECT pg_get_wal_replay_pause_state()`).Scan(&state); err != nil {
			t.Fatal(err)
		}
		if state == "paused" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("replay never paused")
		}
	}

	var signUp struct{ SignUp struct{ Token string } }
	post(t, a.base, "", `mutation { signUp(input: {email: "ryw@example.com", password: "correct horse battery", handle: "ryw", displayName: "Ryw"}) { token } }`, &signUp)
	token := signUp.SignUp.Token
	if token == "" {
		t.Fatal("signUp gave no token")
	}
	type shopsOut struct {
		Viewer *struct {
			Handle string
			Shops  struct {
				Edges []struct{ Node struct{ Handle string } }
			}
		}
	}
	var viewer shopsOut
	post(t, b.base, token, `{ viewer { handle shops { edges { node { handle } } } } }`, &viewer)
	if viewer.Viewer == nil || viewer.Viewer.Handle != "ryw" {
		t.Fatalf("process B does not know the account signed up through A: %+v", viewer.Viewer)
	}

	var created struct {
		CreateShop struct{ Shop struct{ ID string } }
	}
	post(t, a.base, token, `mutation { createShop(input: {handle: "ryw-shop", name: "Ryw Shop", operatingModel: SELF_OPERATED}) { shop { id } } }`, &created)
	if created.CreateShop.Shop.ID == "" {
		t.Fatal("createShop made no shop")
	}
	type shopOut struct{ Shop *struct{ ID string } }
	var own shopOut
	post(t, b.base, token, `{ shop(handle: "ryw-shop") { id } }`, &own)
	if own.Shop == nil || own.Shop.ID != created.CreateShop.Shop.ID {
		t.Errorf("the seller reading through B does not see the shop they created through A: %+v", own.Shop)
	}
	viewer = shopsOut{}
	post(t, b.base, token, `{ viewer { handle shops { edges { node { handle } } } } }`, &viewer)
	if viewer.Viewer == nil || len(viewer.Viewer.Shops.Edges) != 1 || viewer.Viewer.Shops.Edges[0].Node.Handle != "ryw-shop" {
		t.Errorf("viewer.shops through B = %+v, want the shop created through A", viewer.Viewer)
	}
	var anon shopOut
	post(t, b.base, "", `{ shop(handle: "ryw-shop") { id } }`, &anon)
	if anon.Shop != nil {
		t.Error("an anonymous reader of B saw the new shop while the replica's replay is paused: not served by the replica")
	}

	if _, err := replica.Exec(`SELECT pg_wal_replay_resume()`); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		anon = shopOut{}
		post(t, b.base, "", `{ shop(handle: "ryw-shop") { id } }`, &anon)
		if anon.Shop != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the replica never showed the shop after replay resumed")
		}
	}
}
