-- callvault analytics schema: pseudonymised per-call events only
-- (docs/analytics-events.md).  No CDR data ever lives here, and the
-- analytics role has no privilege on the CDR schema "cdr"; since PUBLIC gets
-- nothing on "analytics", the CDR writer (or any other role) cannot read it.
--
-- Idempotent: run as a superuser (or the database owner) at install and on
-- every upgrade.  Login and password for callvault_analytics are set by ops:
--   alter role callvault_analytics login password '...';

do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'callvault_analytics') then
    create role callvault_analytics nologin;
  end if;
end
$$;

create schema if not exists analytics;
revoke all on schema analytics from public;

create table if not exists analytics.call_events (
  event_id    text primary key,          -- keyed per-call id: replays collapse here
  epoch       text not null,             -- pseudonym epoch ("2026-11")
  event       jsonb not null,            -- the event, schema_version inside
  received_at timestamptz not null default now()
);
create index if not exists call_events_epoch_idx on analytics.call_events (epoch);
revoke all on analytics.call_events from public;

grant usage on schema analytics to callvault_analytics;
-- insert: the sink; select: analysts; delete: dropping whole epochs at the
-- end of the analytics retention class.
grant select, insert, delete on analytics.call_events to callvault_analytics;

-- Nothing on the CDR side, whatever was granted before (the store's own
-- migrations create that schema; this keeps the separation if it exists).
do $$
begin
  if exists (select 1 from pg_namespace where nspname = 'cdr') then
    execute 'revoke all on schema cdr from callvault_analytics';
    execute 'revoke all on all tables in schema cdr from callvault_analytics';
    execute 'revoke all on all sequences in schema cdr from callvault_analytics';
  end if;
end
$$;
