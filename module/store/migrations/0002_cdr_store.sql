-- The encrypted CDR store.  In clear only what retention and lookup need;
-- everything else is the AES-256-GCM payload.
CREATE SCHEMA cdr;
REVOKE ALL ON SCHEMA cdr FROM PUBLIC;
COMMENT ON SCHEMA cdr IS 'callvault encrypted call detail records';

-- One data key per trunk and calendar month, wrapped by a KEK of the keyring.
-- Created on demand by the shipper (INSERT .. ON CONFLICT (trunk, period) DO
-- NOTHING, then read back, so concurrent shippers agree on one key).
-- Rotation rewraps under a newer KEK (kek_version, wrapped change; key_id
-- and every payload stay).  Crypto-shredding sets state 'shredded' and
-- wrapped NULL: the data key is gone, so are the records (and their backups).
-- The wrap's associated data is "dk:<key_id>:<period>:<trunk>".
CREATE TABLE cdr.data_keys (
  key_id      uuid        PRIMARY KEY,
  trunk       text        NOT NULL,
  period      text        NOT NULL CHECK (period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
  kek_version integer     NOT NULL CHECK (kek_version > 0),
  wrapped     bytea,
  state       text        NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'shredded')),
  created_at  timestamptz NOT NULL DEFAULT now(),
  rotated_at  timestamptz,
  UNIQUE (trunk, period),
  CHECK ((state = 'active') = (wrapped IS NOT NULL))
);

-- The records, partitioned by call day (monthly) so that retention drops
-- whole partitions instead of deleting rows.  Partitions are created by
-- cdr.ensure_month() below, ahead of use.
--
-- payload = AES-256-GCM(data key of key_id, CDR JSON) with associated data
-- binding record_id, trunk, call_day, retention_class, legal_basis,
-- retain_until and key_id: editing any of them, or moving a payload to another
-- row, makes decryption fail.  hold_state is deliberately NOT bound: legal
-- holds are placed and released on stored records.
--
-- No foreign key to data_keys: a per-row RI trigger would halve COPY
-- throughput, and the shipper commits the key before any record using it.
CREATE TABLE cdr.records (
  record_id       uuid     NOT NULL,
  node_id         text     NOT NULL CHECK (node_id <> '' AND char_length(node_id) <= 128),
  trunk           text     NOT NULL CHECK (char_length(trunk) <= 128),
  call_day        date     NOT NULL,
  retention_class text     NOT NULL CHECK (retention_class <> '' AND char_length(retention_class) <= 32),
  legal_basis     text     NOT NULL CHECK (legal_basis <> ''),
  retain_until    date     NOT NULL CHECK (retain_until >= call_day),
  hold_state      smallint NOT NULL DEFAULT 0 CHECK (hold_state IN (0, 1)),  -- 0 none, 1 held (legal holds come later)
  key_id          uuid     NOT NULL,
  caller_bi       bytea    CHECK (octet_length(caller_bi) = 32),  -- HMAC-SHA256 blind index
  callee_bi       bytea    CHECK (octet_length(callee_bi) = 32),
  payload         bytea    NOT NULL,
  PRIMARY KEY (record_id, call_day)
) PARTITION BY RANGE (call_day);

CREATE INDEX records_caller_bi ON cdr.records (caller_bi) WHERE caller_bi IS NOT NULL;
CREATE INDEX records_callee_bi ON cdr.records (callee_bi) WHERE callee_bi IS NOT NULL;

-- Per-node shipping checkpoint: the journal position after the last record
-- shipped.  Updated in the same transaction as the rows, which is what makes
-- shipping exactly-once.
CREATE TABLE cdr.ship_positions (
  node_id    text        PRIMARY KEY,
  position   text        NOT NULL,
  shipped    bigint      NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Records the database (or the decoder) refused.  Keyed by journal position,
-- so a replay can never quarantine the same record twice; the record itself
-- stays readable in the journal at journal_position.  reason never carries
-- record content.
CREATE TABLE cdr.quarantine (
  node_id          text        NOT NULL,
  journal_position text        NOT NULL,
  record_id        uuid,  -- NULL when the record could not be decoded far enough
  reason           text        NOT NULL,
  at               timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (node_id, journal_position)
);

-- Creates the monthly partition holding `day` if it is missing and returns
-- its name.  SECURITY DEFINER so the writer can add partitions without
-- owning (or being able to drop) any table; the advisory lock serialises
-- concurrent shippers.
CREATE FUNCTION cdr.ensure_month(day date) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  first date := date_trunc('month', day)::date;
  part text := 'records_' || to_char(first, 'YYYYMM');
BEGIN
  IF to_regclass('cdr.' || part) IS NULL THEN
    PERFORM pg_advisory_xact_lock(hashtext('cdr.ensure_month'));
    IF to_regclass('cdr.' || part) IS NULL THEN
      EXECUTE format('CREATE TABLE cdr.%I PARTITION OF cdr.records FOR VALUES FROM (%L) TO (%L)',
                     part, first, (first + interval '1 month')::date);
    END IF;
  END IF;
  RETURN part;
END
$$;
REVOKE ALL ON FUNCTION cdr.ensure_month(date) FROM PUBLIC;

-- Grants.  Privileges on cdr.records reach its partitions through the parent
-- only; nobody gets rights on a partition directly.
GRANT USAGE ON SCHEMA cdr TO callvault_writer, callvault_ops, callvault_reader;

-- writer: append rows (COPY needs INSERT on the listed columns) but no
-- SELECT on records at all, so it cannot read payloads back.
GRANT INSERT ON cdr.records TO callvault_writer;
-- writer: create the data key of a new trunk/month and read wrapped keys to
-- encrypt; no UPDATE/DELETE, so it can neither rewrap nor shred.
GRANT SELECT, INSERT ON cdr.data_keys TO callvault_writer;
-- writer: read and move its checkpoint in the shipping transaction.
GRANT SELECT, INSERT, UPDATE ON cdr.ship_positions TO callvault_writer;
-- writer: park refused records.
GRANT INSERT ON cdr.quarantine TO callvault_writer;
-- writer: add partitions ahead of use.
GRANT EXECUTE ON FUNCTION cdr.ensure_month(date) TO callvault_writer;

-- ops: metadata and blind indexes for retention and lookup; no payload column.
GRANT SELECT (record_id, node_id, trunk, call_day, retention_class, legal_basis, retain_until,
              hold_state, key_id, caller_bi, callee_bi) ON cdr.records TO callvault_ops;
-- ops: key rotation rewraps (kek_version, wrapped, rotated_at) in place.
GRANT SELECT, UPDATE (kek_version, wrapped, rotated_at) ON cdr.data_keys TO callvault_ops;
-- ops: watch shipping progress and refused records.
GRANT SELECT ON cdr.ship_positions, cdr.quarantine TO callvault_ops;
GRANT EXECUTE ON FUNCTION cdr.ensure_month(date) TO callvault_ops;

-- reader: subject requests decrypt records, so payloads and wrapped keys.
GRANT SELECT ON cdr.records, cdr.data_keys TO callvault_reader;
