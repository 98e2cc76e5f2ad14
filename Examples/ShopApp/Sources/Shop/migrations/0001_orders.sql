-- The shop's orders. Times are milliseconds since 1970 (UTC).
CREATE TABLE orders (
    order_id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL,
    country TEXT NOT NULL,
    amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),
    placed_at INTEGER NOT NULL,
    refunded_at INTEGER
);
CREATE INDEX orders_by_customer ON orders (customer_id);
