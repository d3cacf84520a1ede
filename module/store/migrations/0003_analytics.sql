-- The analytics schema: pseudonymised per-call events only
-- (docs/analytics-events.md).  No CDR data ever lives here.  The separation
-- holds both ways: callvault_analytics gets nothing on schema "cdr", and
-- since PUBLIC gets nothing on "analytics", the CDR roles (writer, ops,
-- reader) cannot read or write events.
--
--   callvault_analytics  the module's PostgreSQL analytics sink (insert) and
--                        analysts (select); delete drops whole epochs at the
--                        end of the analytics retention class.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'callvault_analytics') THEN
    CREATE ROLE callvault_analytics NOLOGIN;
  END IF;
END
$$;

CREATE SCHEMA analytics;
REVOKE ALL ON SCHEMA analytics FROM PUBLIC;

CREATE TABLE analytics.call_events (
  event_id    text PRIMARY KEY,          -- keyed per-call id: replays collapse here
  epoch       text NOT NULL,             -- pseudonym epoch ("2026-11")
  event       jsonb NOT NULL,            -- the event, schema_version inside
  received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX call_events_epoch_idx ON analytics.call_events (epoch);
REVOKE ALL ON analytics.call_events FROM PUBLIC;

GRANT USAGE ON SCHEMA analytics TO callvault_analytics;
GRANT SELECT, INSERT, DELETE ON analytics.call_events TO callvault_analytics;

-- Whatever was granted by hand before, nothing on the CDR side.
REVOKE ALL ON SCHEMA cdr FROM callvault_analytics;
REVOKE ALL ON ALL TABLES IN SCHEMA cdr FROM callvault_analytics;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA cdr FROM callvault_analytics;
