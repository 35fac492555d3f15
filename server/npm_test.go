package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// npmTools is the folder of the npm packages the tests run (graphql-http's
// audit, graphql-js's introspection query), pinned by its package-lock.json
// and installed by `make npm`.
const npmTools = "testdata/npm"

// runNode runs one of npmTools' scripts with node and returns its standard
// output; it fails the test when node or the packages are missing.
func runNode(t *testing.T, script string, args ...string) []byte {
	t.Helper()
	if testing.Short() {
		t.Skip("runs node")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not installed: run `make npm`")
	}
	if _, err := os.Stat(filepath.Join(npmTools, "node_modules", "graphql-http", "package.json")); err != nil {
		t.Fatal("the test's npm packages are not installed: run `make npm` (npm ci --prefix server/testdata/npm)")
	}
	cmd := exec.Command(node, append([]string{script}, args...)...)
	cmd.Dir = npmTools
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node %s: %v\n%s", script, err, stderr.String())
	}
	return out
}
