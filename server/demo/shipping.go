package demo

import "fmt"

// shippingAndTax gives every demo shop shipping and tax rates a buyer can
// believe, and the demo buyer a default address. Dollar shops charge US
// sales tax on top of their prices and ship within the US (free from $50),
// to Canada and, at a flat price, to the rest of the world; euro shops'
// prices include VAT (German, French and Dutch rates), and they ship within
// Germany (free from €49), to France and the Netherlands, and to the rest
// of the world. Every shop serves every country.
func (s *seeder) shippingAndTax() error {
	steps := []struct{ what, sql string }{
		{"shipping rates", `INSERT INTO shipping_rates (shop_id, country_code, name, price_amount, free_over_amount)
			SELECT s.id, r.country, r.name, r.price, r.free FROM shops s JOIN (VALUES
				('USD', 'US', 'Standard (3–5 days)', 499, 5000), ('USD', 'US', 'Express (1–2 days)', 1499, NULL),
				('USD', 'CA', 'Canada Post', 999, 10000), ('USD', NULL, 'International', 2499, NULL),
				('EUR', 'DE', 'DHL Paket', 490, 4900), ('EUR', 'DE', 'DHL Express', 1290, NULL),
				('EUR', 'FR', 'Colissimo', 990, 9900), ('EUR', 'NL', 'PostNL', 890, 9900), ('EUR', NULL, 'International', 1990, NULL)
			) AS r(currency, country, name, price, free) ON r.currency = s.currency_code ORDER BY s.id, r.name`},
		{"tax rates", `INSERT INTO tax_rates (shop_id, country_code, title, rate_bps)
			SELECT s.id, r.country, r.title, r.bps FROM shops s JOIN (VALUES
				('USD', 'US', 'Sales tax', 725), ('USD', 'CA', 'GST', 500),
				('EUR', 'DE', 'MwSt', 1900), ('EUR', 'FR', 'TVA', 2000), ('EUR', 'NL', 'BTW', 2100)
			) AS r(currency, country, title, bps) ON r.currency = s.currency_code ORDER BY s.id, r.country`},
		{"taxes included", `UPDATE shops SET taxes_included = (currency_code = 'EUR')`},
		{"demo address", `INSERT INTO customer_addresses (user_id, name, line1, city, region, postal_code, country_code, is_default)
			SELECT id, display_name, '1 Main St', 'Springfield', 'IL', '62701', 'US', true FROM users WHERE email = '` + BuyerEmail + `'`},
	}
	for _, st := range steps {
		if _, err := s.tx.ExecContext(s.ctx, st.sql); err != nil {
			return fmt.Errorf("seed %s: %w", st.what, err)
		}
	}
	return nil
}
