DROP TABLE inactive;
