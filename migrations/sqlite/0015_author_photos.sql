-- An author's photo, shown on their page: an image of the media library (/media/12) or the
-- address of one elsewhere; empty for none.
ALTER TABLE authors ADD COLUMN photo_url TEXT NOT NULL DEFAULT '';
