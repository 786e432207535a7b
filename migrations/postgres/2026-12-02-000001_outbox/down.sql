ALTER TABLE invitations DROP COLUMN reminders;
DROP TABLE outbox;
