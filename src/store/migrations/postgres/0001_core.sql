-- Core schema: contacts and their channel identities, conversations, messages, back office.
-- Timestamps are epoch milliseconds (bigint); money is integer minor units; ids are text.

create table contacts (
    contact_id text primary key,
    name text,
    created_at bigint not null
);

-- A contact as seen by one channel. kind: web (value = sha256 of the visitor token),
-- email (value = lowercase address), discord (value = user id).
create table contact_identities (
    contact_id text not null references contacts (contact_id),
    kind text not null,
    value text not null,
    verification text not null,
    created_at bigint not null,
    primary key (contact_id, kind, value)
);
create index contact_identities_lookup on contact_identities (kind, value);

create table conversations (
    conversation_id text primary key,
    contact_id text not null references contacts (contact_id),
    channel text not null,
    status text not null,
    locale text not null,
    last_seq bigint not null default 0,
    dialogue_state text not null default '{}',
    created_at bigint not null,
    updated_at bigint not null
);
create index conversations_contact on conversations (contact_id, updated_at);
create index conversations_status on conversations (status, updated_at);

create table messages (
    message_id text primary key,
    conversation_id text not null references conversations (conversation_id),
    seq bigint not null,
    author text not null,
    author_name text not null,
    body text not null,
    client_msg_id text,
    private integer not null default 0,
    created_at bigint not null,
    unique (conversation_id, seq),
    unique (conversation_id, client_msg_id)
);

-- Back office. *_key columns hold the case-folded lookup key (upper-case numbers, lower-case emails).
create table orders (
    order_key text primary key,
    order_number text not null,
    customer_email text not null,
    email_key text not null,
    customer_name text,
    status text not null,
    placed_at bigint,
    shipped_at bigint,
    carrier text,
    tracking_number text,
    total_minor bigint,
    currency text,
    updated_at bigint not null
);
create index orders_email on orders (email_key);

create table invoices (
    invoice_key text primary key,
    invoice_number text not null,
    order_number text,
    customer_email text not null,
    email_key text not null,
    amount_minor bigint not null,
    currency text not null,
    status text not null,
    issued_at bigint,
    due_at bigint,
    paid_at bigint,
    updated_at bigint not null
);
create index invoices_email on invoices (email_key);

create table products (
    sku_key text primary key,
    sku text not null,
    name text not null,
    quantity_on_hand bigint not null,
    restock_date bigint,
    price_minor bigint,
    currency text,
    updated_at bigint not null
);

-- Words of product names, so a name search is an index lookup rather than a scan.
create table product_terms (
    term text not null,
    sku_key text not null,
    primary key (term, sku_key)
);
create index product_terms_sku on product_terms (sku_key);
