-- Discord channel: the contact's picture on the channel they write from (a Discord avatar URL),
-- shown in the agent console.

alter table contacts add column avatar_url text;
