-- A paid or released checkout finds the cart lines it claimed
-- (completeCheckout's DELETE, releaseCheckout's UPDATE: WHERE checkout_id =
-- $1) through this index instead of scanning every cart line. Only lines
-- claimed by a checkout in flight are in it, so it stays small.
CREATE INDEX cart_lines_checkout_idx ON cart_lines (checkout_id) WHERE checkout_id IS NOT NULL;
