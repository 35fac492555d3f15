package graph_test

// testAddress is a valid address in country, for saved-address and
// checkout tests.
func testAddress(country string) map[string]any {
	return map[string]any{"name": "Ana Buyer", "line1": "1 Main St", "city": "Springfield", "postalCode": "12345", "countryCode": country}
}
