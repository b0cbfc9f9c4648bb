-- A reader may change or delete their reply for a while after posting it
-- (edit_window_minutes); a reply they changed says "edited".
ALTER TABLE comments ADD COLUMN edited_at BIGINT;
