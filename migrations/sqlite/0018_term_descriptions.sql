-- Sections and tags are described by the newsroom: the words show on their pages.
ALTER TABLE sections ADD COLUMN description TEXT NOT NULL DEFAULT '';
ALTER TABLE tags ADD COLUMN description TEXT NOT NULL DEFAULT '';
