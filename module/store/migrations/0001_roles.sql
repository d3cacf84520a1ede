-- Least-privilege group roles.  They are NOLOGIN: ops grant them to login
-- roles (CREATE ROLE cv_ship LOGIN PASSWORD '...' IN ROLE callvault_writer),
-- so a leaked login can be dropped without touching grants.  Roles are
-- cluster-wide objects and may already exist (another database of the same
-- cluster was migrated first), hence the existence checks.
--
--   callvault_writer  the shipper: appends records, creates data keys, moves
--                     its shipping checkpoint, quarantines refused records.
--                     It cannot read a payload back (AES-GCM protects the
--                     payload anyway; the grant makes a stolen shipper login
--                     useless for bulk reads of even the ciphertext).
--   callvault_ops     key rotation, record metadata for retention and lookup
--                     by blind index; no payloads.
--   callvault_reader  subject requests (access/portability): reads payloads
--                     and wrapped data keys; it still needs the keyring to
--                     decrypt anything.
DO $$
DECLARE
  r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['callvault_writer', 'callvault_ops', 'callvault_reader'] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r) THEN
      EXECUTE format('CREATE ROLE %I NOLOGIN', r);
    END IF;
  END LOOP;
END
$$;
