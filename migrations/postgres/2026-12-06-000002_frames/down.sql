DROP TABLE wave_records;
DROP TABLE wave_units;
