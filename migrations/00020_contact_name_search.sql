-- +goose Up
-- Statistics and customer searches match a part of a name (ILIKE '%q%'); a trigram index finds
-- the few matching contacts among millions instead of reading them all. pg_trgm is a trusted
-- extension: the database's owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX contacts_name_trgm_idx ON contacts USING gin (name gin_trgm_ops);

-- +goose Down
DROP INDEX contacts_name_trgm_idx;
