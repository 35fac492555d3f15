package demo_test

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"showcase/server/demo"
)

// `make run` serves the demo with the demo's top-creator threshold, the one
// TestDemoSeed finds top-creator sales with (README, Configuration).
func TestMakeRunUsesTheDemoThreshold(t *testing.T) {
	b, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	want := "TOP_CREATOR_FOLLOWERS=$${TOP_CREATOR_FOLLOWERS:-" + strconv.Itoa(demo.TopCreatorFollowers) + "} $(GO) run ./server"
	if !strings.Contains(string(b), want) {
		t.Errorf("the Makefile's run target does not say %q", want)
	}
}
