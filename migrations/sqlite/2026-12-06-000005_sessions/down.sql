-- The deleted cookie key is not brought back: the next start makes a new one.
ALTER TABLE users DROP COLUMN disabled;
ALTER TABLE users DROP COLUMN session_epoch;
