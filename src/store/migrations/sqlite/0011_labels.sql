-- Labels: admin-managed names with a colour; agents set them on conversations.

create table labels (
    name text primary key,
    color text not null,
    created_at bigint not null
);

create table conversation_labels (
    conversation_id text not null references conversations (conversation_id) on delete cascade,
    name text not null references labels (name) on delete cascade,
    created_at bigint not null,
    primary key (conversation_id, name)
);

create index conversation_labels_name on conversation_labels (name, conversation_id);
