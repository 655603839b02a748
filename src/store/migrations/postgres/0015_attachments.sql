-- Files customers and agents send (images, PDFs). The bytes live on disk under the
-- attachments folder, named by attachment_id; this row is what the API needs to serve them.
-- message_id is null between the upload and the message that carries the file.
create table attachments (
    attachment_id text primary key,
    conversation_id text not null references conversations (conversation_id),
    message_id text references messages (message_id),
    content_type text not null,
    size bigint not null,
    name text not null,
    sha256 text not null,
    -- 'visitor' or the uploading agent's id.
    uploaded_by text not null,
    created_at bigint not null
);
create index attachments_message on attachments (message_id);
