DROP INDEX responses_comments;
DROP TABLE unit_totals;
DROP TABLE tallies;
