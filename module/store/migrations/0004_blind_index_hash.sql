-- Blind-index lookups are equality only (cdr search computes the HMAC and
-- asks for exact matches), and the HMACs are uniformly random: a b-tree
-- gains nothing from order here and pays for it on every insert with a
-- descent of 32-byte comparisons through random pages.  Hash indexes answer
-- the same equality lookups at a fraction of the insert cost.
DROP INDEX cdr.records_caller_bi;
DROP INDEX cdr.records_callee_bi;
CREATE INDEX records_caller_bi ON cdr.records USING hash (caller_bi) WHERE caller_bi IS NOT NULL;
CREATE INDEX records_callee_bi ON cdr.records USING hash (callee_bi) WHERE callee_bi IS NOT NULL;
