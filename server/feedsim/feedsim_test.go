package main

import (
	"context"
	"testing"

	"showcase/store"
	"showcase/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// A short, seeded run of the simulator, so that it cannot rot: For You's
// precision after 20 interactions is at least twice popularity's, a fresh
// interest shows in the next page (within the 30 s the probe waits), and new
// videos reach people interested in their topic; and the same population
// signed out (devices) gets the same lift from its devices' profiles.
func TestSimulatorTargets(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates a population")
	}
	o := defaultOptions()
	o.Users, o.Topics, o.CreatorsPerTopic, o.VideosPerCreator, o.Probes = 8, 5, 2, 6, 2
	o.Checkpoints = []int{0, 5, 20}
	o.Policies = []string{store.PolicyPopular, store.PolicyForYou, PolicySignedOut}
	results, err := simulateAll(context.Background(), o, func(string) (string, error) { return storetest.DSN(t), nil })
	if err != nil {
		t.Fatal(err)
	}
	popular, forYou, signedOut := results[0], results[1], results[2]
	for _, r := range results {
		t.Logf("%s: %+v fresh %v reach %.2f / %.2f", r.Policy, r.Checkpoints, r.FreshSeconds, r.ReachMatching, r.ReachOthers)
	}
	if p, f := popular.Checkpoints[2].Precision, forYou.Checkpoints[2].Precision; f < 2*p {
		t.Errorf("after 20 interactions For You's precision is %.2f, popularity's %.2f: want at least twice", f, p)
	}
	// Signed out, a device learns from its own events and its feed follows.
	if p, f := popular.Checkpoints[2].Precision, signedOut.Checkpoints[2].Precision; f < 2*p {
		t.Errorf("after 20 interactions signed out, For You's precision is %.2f, popularity's %.2f: want at least twice", f, p)
	}
	for _, s := range signedOut.FreshSeconds {
		if s < 0 {
			t.Errorf("signed out, a fresh interest did not show in the next page: %v", signedOut.FreshSeconds)
		}
	}
	if len(forYou.FreshSeconds) == 0 {
		t.Error("no fresh interest was probed")
	}
	for _, s := range forYou.FreshSeconds {
		if s < 0 {
			t.Errorf("a fresh interest did not show in the next page: %v", forYou.FreshSeconds)
		}
	}
	if forYou.ReachMatching <= forYou.ReachOthers || forYou.ReachMatching < 0.5 {
		t.Errorf("new videos reached %.0f%% of the people interested and %.0f%% of the others", forYou.ReachMatching*100, forYou.ReachOthers*100)
	}
}
