DROP INDEX audit_log_scope;
ALTER TABLE audit_log DROP COLUMN scope;
