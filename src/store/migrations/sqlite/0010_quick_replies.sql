-- Quick replies a bot message offers (JSON array of texts, e.g. ["Yes","No"]); the widget shows
-- them as buttons that send the same text. NULL: none.
alter table messages add column quick_replies text;
