-- The installation's mail pace: the earliest time the next mail may go out. Every worker of
-- every process takes its slot here, so SANPING_MAIL_RATE holds for the installation, not
-- per process (a campus relay's limit is one limit).
CREATE TABLE mail_pace (
    id INTEGER PRIMARY KEY NOT NULL,
    next_at TIMESTAMP NOT NULL
);
