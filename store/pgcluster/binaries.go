// Package pgcluster runs a local PostgreSQL cluster owned by this process:
// the embedded default database of the server and the throwaway database of
// the tests.
package pgcluster

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// findBinDir locates initdb and pg_ctl: PG_BIN, else the newest Debian
// install under /usr/lib/postgresql, else PATH.
func findBinDir() (string, error) {
	if dir := os.Getenv("PG_BIN"); dir != "" {
		return dir, nil
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	sort.Slice(matches, func(i, j int) bool { return majorVersion(matches[i]) > majorVersion(matches[j]) })
	if len(matches) > 0 {
		return filepath.Dir(matches[0]), nil
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("PostgreSQL server binaries not found: run `make postgres` (apt-get install -y postgresql) or set PG_BIN")
}

func majorVersion(initdbPath string) int {
	parts := strings.Split(initdbPath, string(filepath.Separator))
	for i, p := range parts {
		if p == "postgresql" && i+1 < len(parts) {
			v, _ := strconv.Atoi(parts[i+1])
			return v
		}
	}
	return 0
}

// BinDir returns the folder of the PostgreSQL binaries in use (pgbench too).
func BinDir() (string, error) { return findBinDir() }
