package store

import (
	"fmt"
	"strconv"
	"strings"
)

// Money is an exact amount in a currency's minor units (cents for USD).
type Money struct {
	Minor        int64
	CurrencyCode string
}

// zeroDecimalCurrencies have no minor unit.
var zeroDecimalCurrencies = map[string]bool{"JPY": true, "KRW": true, "VND": true, "CLP": true, "ISK": true}

func currencyExponent(code string) int {
	if zeroDecimalCurrencies[code] {
		return 0
	}
	return 2
}

// Amount renders the amount as a decimal string in the currency's precision
// ("19.90", "-2.50", "1500" for JPY). It is written with strconv, not fmt:
// every price of a feed or catalogue page goes through it.
func (m Money) Amount() string {
	if currencyExponent(m.CurrencyCode) == 0 {
		return strconv.FormatInt(m.Minor, 10)
	}
	var buf [24]byte // "-92233720368547758.08" at most
	b := buf[:0]
	// The magnitude as unsigned, so that the most negative int64 has one.
	v := uint64(m.Minor)
	if m.Minor < 0 {
		b = append(b, '-')
		v = -v
	}
	b = strconv.AppendUint(b, v/100, 10)
	cents := v % 100
	b = append(b, '.', byte('0'+cents/10), byte('0'+cents%10))
	return string(b)
}

// ValidCurrencyCode reports whether code looks like an ISO 4217 code.
func ValidCurrencyCode(code string) bool {
	if len(code) != 3 {
		return false
	}
	for _, r := range code {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}

// ParseMoney reads a non-negative decimal amount such as "19.90" into minor
// units, refusing more precision than the currency has.
func ParseMoney(amount, currencyCode string) (Money, error) {
	if !ValidCurrencyCode(currencyCode) {
		return Money{}, fmt.Errorf("currency code must be three capital letters")
	}
	exp := currencyExponent(currencyCode)
	whole, frac, hasFrac := strings.Cut(strings.TrimSpace(amount), ".")
	if whole == "" || !allDigits(whole) || (hasFrac && (frac == "" || !allDigits(frac))) {
		return Money{}, fmt.Errorf("amount must be a decimal number like \"19.90\"")
	}
	if len(frac) > exp {
		return Money{}, fmt.Errorf("amount has more than %d decimal places", exp)
	}
	if len(whole) > 12 {
		return Money{}, fmt.Errorf("amount is too large")
	}
	for len(frac) < exp {
		frac += "0"
	}
	minor, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		return Money{}, fmt.Errorf("amount is not a number")
	}
	return Money{Minor: minor, CurrencyCode: currencyCode}, nil
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
