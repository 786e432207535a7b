DROP TABLE responses;
DROP TABLE invitations;
DROP TABLE waves;
DROP TABLE people;
DROP TABLE units;
DROP TABLE settings;
