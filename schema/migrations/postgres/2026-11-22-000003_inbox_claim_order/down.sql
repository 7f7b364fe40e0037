DROP INDEX inbox_claim;
CREATE INDEX inbox_ready ON inbox (state, next_attempt_at);
