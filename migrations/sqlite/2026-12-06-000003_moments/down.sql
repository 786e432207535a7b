DROP TABLE moments;
