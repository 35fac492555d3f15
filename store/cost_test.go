package store_test

import (
	"testing"

	"showcase/store"
)

// The rounding rule of the schema and README: per line, to the nearest
// minor unit, halves up; inclusive tax is the part of the price that is tax.
func TestLineTaxRounding(t *testing.T) {
	for _, c := range []struct {
		subtotal int64
		bps      int
		included bool
		want     int64
	}{
		{999, 825, false, 82},     // 82.4175
		{10, 825, false, 1},       // 0.825
		{200, 25, false, 1},       // 0.5: half up
		{199, 25, false, 0},       // 0.4975
		{1200, 2000, true, 200},   // 1200 × 2000 / 12000
		{5, 2000, true, 1},        // 0.8333
		{3, 2000, true, 1},        // 0.5: half up
		{1000, 0, false, 0},       // no rate
		{0, 2000, false, 0},       // nothing to tax
		{5999, 725, false, 435},   // 434.9275
		{11900, 1900, true, 1900}, // 119.00 incl. 19%: 19.00
	} {
		if got := store.LineTax(c.subtotal, c.bps, c.included); got != c.want {
			t.Errorf("LineTax(%d, %d, %v) = %d, want %d", c.subtotal, c.bps, c.included, got, c.want)
		}
	}
}
