DROP TABLE retired_tokens;
