-- Why an order was refunded, kept with the order.
ALTER TABLE orders ADD COLUMN refund_reason TEXT;
