package store_test

import (
	"testing"

	"showcase/store/storetest"
)

// TestMain stops the throwaway PostgreSQL cluster the package's tests
// started (storetest.Main), so that `go test ./store` leaves none running.
func TestMain(m *testing.M) { storetest.Main(m) }
