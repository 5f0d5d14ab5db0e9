-- Per-account order and reused client order ids.
--
-- sqs_sequence_number: the SequenceNumber SQS assigned to the message. AWS documents it as a 128-bit number that
-- "continues to increase for a particular MessageGroupId" (SQS API reference, SendMessage), and the message group is
-- the account, so it is the account's order: events carry it, and a consumer restores an account's order by it even
-- when EventBridge delivers out of order. NULL only for rows stored before this migration.
--
-- content_hash: SHA-256 of the order's canonical content (the typed values of a valid order, the raw body of an
-- invalid one), so that a later message with the same (account_id, client_order_id) but other content is told
-- apart from a redelivery of the same order.
--
-- order_conflicts: such a message. The first order stands (it may already be trading); the conflicting request
-- is kept here whole and published as OrderConflict, so the client and the audit trail see it instead of a
-- silent drop. One row per SQS message: a redelivered conflicting message is recorded once.

ALTER TABLE orders
    ADD COLUMN sqs_sequence_number numeric(40,0),
    ADD COLUMN content_hash        text,
    ADD CONSTRAINT orders_sqs_sequence_number_check CHECK (sqs_sequence_number >= 0),
    ADD CONSTRAINT orders_content_hash_check CHECK (content_hash ~ '^[0-9a-f]{64}$');

CREATE TABLE order_conflicts (
    conflict_id          uuid          NOT NULL DEFAULT gen_random_uuid(),
    account_id           text          NOT NULL,
    client_order_id      text          NOT NULL,
    sqs_message_id       text          NOT NULL,
    sqs_sequence_number  numeric(40,0),
    content_hash         text          NOT NULL,
    -- The conflicting body as received; a JSON string when it could not be stored as a JSON value.
    request_payload      jsonb         NOT NULL,
    received_at          timestamptz   NOT NULL,
    detected_at          timestamptz   NOT NULL DEFAULT now(),

    CONSTRAINT order_conflicts_pkey PRIMARY KEY (conflict_id),
    CONSTRAINT order_conflicts_sqs_message_id_key UNIQUE (sqs_message_id),
    CONSTRAINT order_conflicts_order_fkey FOREIGN KEY (account_id, client_order_id)
        REFERENCES orders (account_id, client_order_id)
);

CREATE INDEX order_conflicts_order_idx ON order_conflicts (account_id, client_order_id);

COMMENT ON TABLE order_conflicts IS 'Messages that reused an (account_id, client_order_id) with other content; the stored order was kept.';
COMMENT ON COLUMN orders.sqs_sequence_number IS 'SQS FIFO SequenceNumber: increases within the account''s message group.';
COMMENT ON COLUMN orders.content_hash IS 'SHA-256 of the canonical order content, to tell a redelivery from a reused client order id.';
