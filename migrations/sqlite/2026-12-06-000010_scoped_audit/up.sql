-- The subtree an audit entry concerns: the unit code of the wave's scope, the account's scope
-- or the import's; NULL for installation-wide entries, which only installation-wide
-- accounts see in the console's audit log.
ALTER TABLE audit_log ADD COLUMN scope TEXT;
CREATE INDEX audit_log_scope ON audit_log (scope, at);
