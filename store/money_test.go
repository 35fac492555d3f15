package store_test

import (
	"math"
	"testing"

	"showcase/store"
)

func TestParseMoney(t *testing.T) {
	for _, c := range []struct {
		amount, currency string
		minor            int64
		ok               bool
	}{
		{"19.90", "USD", 1990, true},
		{"19.9", "USD", 1990, true},
		{"19", "USD", 1900, true},
		{"0.05", "EUR", 5, true},
		{"1500", "JPY", 1500, true},
		{"1.5", "JPY", 0, false},
		{"1.999", "USD", 0, false},
		{"-1.00", "USD", 0, false},
		{"1e3", "USD", 0, false},
		{"", "USD", 0, false},
		{"1.", "USD", 0, false},
		{"10", "usd", 0, false},
		{"9999999999999", "USD", 0, false},
	} {
		m, err := store.ParseMoney(c.amount, c.currency)
		if (err == nil) != c.ok || (c.ok && m.Minor != c.minor) {
			t.Errorf("ParseMoney(%q, %q) = %+v, %v", c.amount, c.currency, m, err)
		}
	}
}

func TestMoneyAmount(t *testing.T) {
	for _, c := range []struct {
		m    store.Money
		want string
	}{
		{store.Money{Minor: 1990, CurrencyCode: "USD"}, "19.90"},
		{store.Money{Minor: 5, CurrencyCode: "EUR"}, "0.05"},
		{store.Money{Minor: 0, CurrencyCode: "USD"}, "0.00"},
		{store.Money{Minor: -250, CurrencyCode: "USD"}, "-2.50"},
		{store.Money{Minor: 1500, CurrencyCode: "JPY"}, "1500"},
		{store.Money{Minor: -5, CurrencyCode: "USD"}, "-0.05"},
		{store.Money{Minor: 100, CurrencyCode: "USD"}, "1.00"},
		{store.Money{Minor: 123456789012, CurrencyCode: "USD"}, "1234567890.12"},
		{store.Money{Minor: math.MaxInt64, CurrencyCode: "USD"}, "92233720368547758.07"},
		{store.Money{Minor: math.MinInt64, CurrencyCode: "USD"}, "-92233720368547758.08"},
		{store.Money{Minor: -1500, CurrencyCode: "JPY"}, "-1500"},
	} {
		if got := c.m.Amount(); got != c.want {
			t.Errorf("%+v.Amount() = %q, want %q", c.m, got, c.want)
		}
	}
}

// TestMoneyAmountAllocatesOnlyItsString: a price is rendered into its
// string without fmt's boxing and buffers (one allocation, the result).
func TestMoneyAmountAllocatesOnlyItsString(t *testing.T) {
	m := store.Money{Minor: 123456, CurrencyCode: "USD"}
	if n := testing.AllocsPerRun(100, func() { _ = m.Amount() }); n > 1 {
		t.Errorf("Amount allocates %v times, want at most 1", n)
	}
}
