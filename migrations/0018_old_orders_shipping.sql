-- Orders from before 0010_cart_cost have no shipping line (shipping_title
-- NULL; 0010 gave them shipping_amount 0, tax_amount 0 and no tax title):
-- they charged their subtotal and nothing for shipping. They now read as
-- every order does, with the shipping line a shop without shipping rates
-- gets at checkout: "Free shipping" at 0 (store.priceShop). Their tax stays
-- none (no tax title, no tax lines), which is what they charged.
-- From here on every order has a shipping line: the column is NOT NULL,
-- and a writer that names none records the same "Free shipping".
UPDATE orders SET shipping_title = 'Free shipping', shipping_amount = 0
WHERE shipping_title IS NULL;
ALTER TABLE orders
    ALTER COLUMN shipping_title SET DEFAULT 'Free shipping',
    ALTER COLUMN shipping_title SET NOT NULL;
