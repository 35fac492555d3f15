package store_test

import (
	"math/rand/v2"
	"slices"
	"testing"

	"showcase/store"
)

// Allocate splits exactly, in proportion, by the largest remainder with
// the earlier amount first on a tie.
func TestAllocate(t *testing.T) {
	for _, tc := range []struct {
		d       int64
		amounts []int64
		want    []int64
	}{
		{1000, []int64{1000, 1000, 1000}, []int64{334, 333, 333}},
		{1, []int64{500, 500}, []int64{1, 0}},
		{100, []int64{0, 300, 100}, []int64{0, 75, 25}},
		{3, []int64{1, 1, 1, 0}, []int64{1, 1, 1, 0}},
		{0, []int64{10, 20}, []int64{0, 0}},
		{999, []int64{333, 333, 334}, []int64{333, 333, 333}},
	} {
		if got := store.Allocate(tc.d, tc.amounts); !slices.Equal(got, tc.want) {
			t.Errorf("Allocate(%d, %v) = %v, want %v", tc.d, tc.amounts, got, tc.want)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		n := 1 + r.IntN(8)
		amounts := make([]int64, n)
		var sum int64
		for i := range amounts {
			amounts[i] = r.Int64N(1_000_000_000_000)
			sum += amounts[i]
		}
		d := r.Int64N(sum + 1)
		got := store.Allocate(d, amounts)
		var total int64
		for i, a := range got {
			total += a
			// Each share is within one unit of the exact proportion.
			exact := float64(d) * float64(amounts[i]) / float64(sum)
			if float64(a) < exact-1 || float64(a) > exact+1 || a > amounts[i] {
				t.Fatalf("Allocate(%d, %v)[%d] = %d, exact %.2f", d, amounts, i, a, exact)
			}
		}
		if total != d {
			t.Fatalf("Allocate(%d, %v) adds up to %d", d, amounts, total)
		}
	}
}
