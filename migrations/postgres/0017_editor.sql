-- The editor's day-one comforts: a title, description and image for search engines and
-- social cards (each falls back to the headline, standfirst and featured image when empty);
-- the trash (a trashed article is a draft no list shows, until restored or deleted for
-- ever); and what each revision was (saved, published, scheduled, restored, imported).
ALTER TABLE articles ADD COLUMN seo_title TEXT NOT NULL DEFAULT '';
ALTER TABLE articles ADD COLUMN seo_description TEXT NOT NULL DEFAULT '';
ALTER TABLE articles ADD COLUMN social_image TEXT NOT NULL DEFAULT '';
ALTER TABLE articles ADD COLUMN trashed_at BIGINT;

ALTER TABLE revisions ADD COLUMN kind TEXT NOT NULL DEFAULT 'saved';
ALTER TABLE revisions ADD COLUMN seo_title TEXT NOT NULL DEFAULT '';
ALTER TABLE revisions ADD COLUMN seo_description TEXT NOT NULL DEFAULT '';
ALTER TABLE revisions ADD COLUMN social_image TEXT NOT NULL DEFAULT '';
