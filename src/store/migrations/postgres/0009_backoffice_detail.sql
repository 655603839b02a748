-- Order lines, shipments and return/refund requests of the built-in back office.

-- One row per product on an order; re-importing a line (same order and SKU) replaces it.
create table order_lines (
    order_key text not null,
    sku_key text not null,
    sku text not null,
    name text not null,
    quantity bigint not null,
    unit_price_minor bigint,
    created_at bigint not null,
    primary key (order_key, sku_key)
);

-- Deliveries of an order; state uses the order words (processing, shipped, delivered, cancelled).
create table shipments (
    shipment_key text primary key,
    shipment_number text not null,
    order_key text not null,
    state text not null,
    planned_at bigint,
    shipped_at bigint,
    delivered_at bigint,
    carrier text,
    tracking_number text,
    created_at bigint not null
);
create index shipments_order on shipments (order_key);

create index invoices_order on invoices (order_number);

-- Return and refund requests opened for an order (or some of its lines: skus is a JSON array).
create table backoffice_requests (
    request_id bigserial primary key,
    kind text not null,
    order_key text not null,
    order_number text not null,
    skus text not null,
    reason text not null,
    state text not null,
    created_at bigint not null,
    updated_at bigint not null
);
create index backoffice_requests_order on backoffice_requests (order_key, created_at);
