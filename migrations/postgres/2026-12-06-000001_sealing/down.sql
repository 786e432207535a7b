ALTER TABLE responses ADD COLUMN day DATE NOT NULL DEFAULT DATE '1970-01-01';
DROP TABLE receipts;
DROP TABLE wave_holders;
ALTER TABLE waves DROP COLUMN unsealed_at;
ALTER TABLE waves DROP COLUMN public_key;
ALTER TABLE waves DROP COLUMN threshold;
ALTER TABLE users DROP COLUMN sealed_key;
ALTER TABLE users DROP COLUMN key_salt;
ALTER TABLE users DROP COLUMN public_key;
