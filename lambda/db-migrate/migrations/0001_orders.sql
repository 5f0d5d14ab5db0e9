-- Orders as processed from the SQS FIFO queue: one row per (account, client order id), accepted or rejected.
-- Never edit this file once deployed: add 0002_... instead (the runner refuses a changed checksum).
--
-- Money and quantities are NUMERIC, never float: JSON carries them as decimal strings. NUMERIC(20,8) rounds a
-- ninth decimal silently (the cast happens before any CHECK sees it), so request validation must reject more
-- than 8 decimals before the insert.
-- Rejected orders are recorded too. Their typed columns may be NULL where the request's value could not be
-- stored (a malformed quantity, say); request_payload then keeps the original for the audit trail. The
-- business rules (limit price present for LIMIT, all fields present) bind ACCEPTED rows only, while range
-- checks (quantity > 0, known side) bind every value that is stored.

CREATE TABLE orders (
    order_id         uuid          NOT NULL DEFAULT gen_random_uuid(),
    client_order_id  text          NOT NULL,
    account_id       text          NOT NULL,
    symbol           text,
    side             text,
    order_type       text,
    quantity         numeric(20,8),
    limit_price      numeric(20,8),
    time_in_force    text,
    status           text          NOT NULL,
    reject_reason    text,
    -- Unconstrained NUMERIC keeps quantity x price exact (up to 16 decimals) instead of rounding money.
    notional         numeric,
    request_payload  jsonb,
    sqs_message_id   text,
    received_at      timestamptz   NOT NULL,
    processed_at     timestamptz   NOT NULL DEFAULT now(),
    created_at       timestamptz   NOT NULL DEFAULT now(),

    CONSTRAINT orders_pkey PRIMARY KEY (order_id),
    -- The idempotency key: the processor inserts with ON CONFLICT (client_order_id, account_id) DO NOTHING, so a
    -- redelivered message has no second effect. account_id first, so the index also serves per-account lookups.
    CONSTRAINT orders_account_client_order_key UNIQUE (account_id, client_order_id),

    -- Bounded like the SQS ids they become (MessageGroupId, MessageDeduplicationId: at most 128 characters).
    CONSTRAINT orders_client_order_id_check CHECK (char_length(client_order_id) BETWEEN 1 AND 128),
    CONSTRAINT orders_account_id_check CHECK (char_length(account_id) BETWEEN 1 AND 128),
    CONSTRAINT orders_symbol_check CHECK (char_length(symbol) BETWEEN 1 AND 32 AND symbol = upper(symbol)),
    CONSTRAINT orders_side_check CHECK (side IN ('BUY', 'SELL')),
    CONSTRAINT orders_order_type_check CHECK (order_type IN ('MARKET', 'LIMIT')),
    CONSTRAINT orders_time_in_force_check CHECK (time_in_force IN ('DAY', 'GTC', 'IOC', 'FOK')),
    -- PostgreSQL's NUMERIC has NaN (and, unconstrained, Infinity), and NaN sorts above every number, so "> 0"
    -- alone would admit it. A float-ish value must never become money.
    CONSTRAINT orders_quantity_check CHECK (quantity > 0 AND quantity <> 'NaN'),
    CONSTRAINT orders_limit_price_check CHECK (limit_price > 0 AND limit_price <> 'NaN'),
    CONSTRAINT orders_notional_check CHECK (notional >= 0 AND notional <> 'NaN' AND notional <> 'Infinity'),
    CONSTRAINT orders_status_check CHECK (status IN ('ACCEPTED', 'REJECTED')),

    -- A rejection always says why, and an acceptance never carries a reason.
    CONSTRAINT orders_reject_reason_check CHECK (
        (status = 'REJECTED') = (reject_reason IS NOT NULL AND char_length(reject_reason) > 0)
    ),
    -- An accepted order is complete.
    CONSTRAINT orders_accepted_complete_check CHECK (
        status <> 'ACCEPTED' OR (
            symbol IS NOT NULL AND side IS NOT NULL AND order_type IS NOT NULL
            AND quantity IS NOT NULL AND time_in_force IS NOT NULL
        )
    ),
    -- LIMIT orders need a price; MARKET orders must not have one (it would be silently ignored downstream).
    CONSTRAINT orders_limit_price_by_type_check CHECK (
        status <> 'ACCEPTED' OR (order_type = 'LIMIT') = (limit_price IS NOT NULL)
    )
);

-- "An account's recent orders", newest first.
CREATE INDEX orders_account_created_at_idx ON orders (account_id, created_at DESC);
-- Time-range scans for reporting and reconciliation.
CREATE INDEX orders_created_at_idx ON orders (created_at);
-- Operations look at recent rejections; they are few, so a partial index stays small.
CREATE INDEX orders_rejected_created_at_idx ON orders (created_at) WHERE status = 'REJECTED';

COMMENT ON TABLE orders IS 'Orders processed from the SQS FIFO queue; (account_id, client_order_id) is the idempotency key.';
COMMENT ON COLUMN orders.order_id IS 'Server-generated unless supplied by the processor.';
COMMENT ON COLUMN orders.notional IS 'quantity x price used by the risk check, exact NUMERIC; NULL when no price was known (e.g. a MARKET order).';
COMMENT ON COLUMN orders.request_payload IS 'Original message body, kept for rejected orders whose values could not be stored typed.';
COMMENT ON COLUMN orders.received_at IS 'When the API accepted the request (SQS SentTimestamp).';
COMMENT ON COLUMN orders.processed_at IS 'When the processor decided ACCEPTED or REJECTED.';
