"""PostgreSQL's own enforcement of the team rules (issue 24): group roles, privileges, forced row-level security
and an audit trail written by triggers. Nothing here runs on SQLite (one trust domain: whoever can write the
file can act as anyone).

`install(conn)` is the migration body (run by the database's owner, who is its first key user); it is
idempotent, so the migration runner can call it once and `init` again without harm. `grant_member` and
`revoke_member` are what `user add / set-role / remove` call. The policies ask SECURITY DEFINER functions
(STABLE, search_path pinned) for the login's role: `session_user`, so `SET ROLE` to a group changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("recruiter", "manager", "keyuser")

# Tables per kind of rule (every table the schema has; test_pg_security checks none is missing).
DEAL_TABLES = ("opportunities", "followups")
STEP_TABLES = ("undo_log",)  # each user's own undo steps (sql/opportunities.py)
MANAGER_TABLES = ("goals",)  # set by managers and key users (usecases/forecast.py)
AUDIT_TABLES = ("history", "setup_log")
SETUP_TABLES = ("business_types", "stages", "stage_business_types", "sources", "reasons", "workflows")
KEY_USER_TABLES = SETUP_TABLES + ("users", "settings")
DERIVED_TABLES = ("stage_visits", "funnel_counts")
RECORD_TABLE = "salesselect_migrations"
ALL_TABLES = (DEAL_TABLES + STEP_TABLES + MANAGER_TABLES + AUDIT_TABLES + KEY_USER_TABLES + DERIVED_TABLES
              + (RECORD_TABLE,))
BULK_LOAD_KEY = "bulk_load"  # schema.BULK_LOAD_KEY: an import's per-transaction flag any member may set
HOOK_RUN_PREFIX = "hook_run:"  # sql/people.HOOK_RUN_PREFIX: running hooks' markers, not setup (and not logged)


def group_role(database: str, role: str) -> str:
    """The cluster-wide name of `database`'s group for `role`: unique per database, within 63 bytes."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    name = f"{database}_{role}"
    if len(name.encode()) <= 63:
        return name
    import hashlib

    digest = hashlib.sha1(database.encode()).hexdigest()[:8]
    return f"{database.encode()[:40].decode(errors='ignore')}_{digest}_{role}"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# --------------------------------------------------------------------------- functions the policies ask
# users is the one table whose RLS is not forced: these definer functions read it as its owner (forcing it
# would make every policy recurse into itself). The owner may ALTER any table anyway; members are bound.
FUNCTIONS = """
CREATE OR REPLACE FUNCTION salesselect_login_user() RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, {schema}, pg_temp AS $$
  SELECT id FROM {schema}.users WHERE lower(btrim(name)) = lower(btrim(session_user::text)) ORDER BY id LIMIT 1
$$;
CREATE OR REPLACE FUNCTION salesselect_role() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, {schema}, pg_temp AS $$
  SELECT CASE WHEN key_user = 1 THEN 'keyuser' ELSE role END FROM {schema}.users
   WHERE lower(btrim(name)) = lower(btrim(session_user::text)) ORDER BY id LIMIT 1
$$;
CREATE OR REPLACE FUNCTION salesselect_may_change_any() RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, {schema}, pg_temp AS $$
  SELECT COALESCE({schema}.salesselect_role() IN ('manager', 'keyuser'), false)
$$;
CREATE OR REPLACE FUNCTION salesselect_is_key_user() RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, {schema}, pg_temp AS $$
  SELECT COALESCE({schema}.salesselect_role() = 'keyuser', false)
$$;
CREATE OR REPLACE FUNCTION salesselect_may_change_deal(deal bigint) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, {schema}, pg_temp AS $$
  SELECT {schema}.salesselect_may_change_any()
      OR EXISTS (SELECT 1 FROM {schema}.opportunities o WHERE o.id = deal AND o.owner_id = {schema}.salesselect_login_user())
$$;
-- True inside the audit and derived-table triggers (they run as the tables' owner), never for a member.
CREATE OR REPLACE FUNCTION salesselect_by_owner() RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
  SELECT pg_catalog.pg_get_userbyid(c.relowner) = current_user::text FROM pg_catalog.pg_class c WHERE c.oid = '{schema}.users'::regclass
$$;
-- What follows the actor's name while a key user's setup change moves deals (sql/setup.py): one known note only.
CREATE OR REPLACE FUNCTION salesselect_actor_note(key_user bigint) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT CASE WHEN key_user = 1 AND current_setting('salesselect.actor_note', true) = ' (stage removed)'
              THEN ' (stage removed)' ELSE '' END
$$;
-- Who the audit trail names: the login's user, or 'kim for bob' when key user kim set salesselect.act_for;
-- anyone else's salesselect.act_for is ignored, so only a key user can carry it.
CREATE OR REPLACE FUNCTION salesselect_actor() RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, {schema}, pg_temp AS $$
DECLARE
  login record;
  target text := NULLIF(btrim(current_setting('salesselect.act_for', true)), '');
  other text;
BEGIN
  SELECT name, key_user INTO login FROM {schema}.users
   WHERE lower(btrim(name)) = lower(btrim(session_user::text)) ORDER BY id LIMIT 1;
  IF login.name IS NULL THEN
    RETURN session_user::text;
  END IF;
  IF target IS NOT NULL AND login.key_user = 1 AND lower(target) <> lower(btrim(login.name)) THEN
    SELECT name INTO other FROM {schema}.users WHERE lower(btrim(name)) = lower(target) ORDER BY id LIMIT 1;
    IF other IS NOT NULL THEN
      RETURN login.name || ' for ' || other || {schema}.salesselect_actor_note(login.key_user);
    END IF;
  END IF;
  RETURN login.name || {schema}.salesselect_actor_note(login.key_user);
END $$;
-- A workflow's own change (the client sets salesselect.workflow while it applies the workflow's actions): only
-- for what an action does (a follow-up added, a note, an owner), for a workflow that exists and is enabled, and
-- still bound by the login's rights; every other row names the login, so nobody hides a change behind a workflow.
CREATE OR REPLACE FUNCTION salesselect_actor_or_workflow() RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, {schema}, pg_temp AS $$
DECLARE
  workflow text;
BEGIN
  IF {schema}.salesselect_role() IS NOT NULL AND NULLIF(current_setting('salesselect.workflow', true), '') IS NOT NULL THEN
    SELECT name INTO workflow FROM {schema}.workflows
     WHERE name = current_setting('salesselect.workflow', true) AND enabled = 1;
    IF workflow IS NOT NULL THEN
      RETURN 'workflow:' || workflow;
    END IF;
  END IF;
  RETURN {schema}.salesselect_actor();
END $$;
-- The audit timestamp: the client's fixed clock when it set one (SALESSELECT_TODAY), else the server's.
CREATE OR REPLACE FUNCTION salesselect_now() RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT COALESCE(NULLIF(current_setting('salesselect.now', true), ''),
                  NULLIF(current_setting('salesselect.today', true), '') || to_char(clock_timestamp(), ' HH24:MI:SS'),
                  to_char(clock_timestamp(), 'YYYY-MM-DD HH24:MI:SS'))
$$;
-- The bulk copy of a whole agency (`db copy`, bulk-load flag set by the owner): its history is copied, not written.
CREATE OR REPLACE FUNCTION salesselect_quiet() RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, {schema}, pg_temp AS $$
  SELECT EXISTS (SELECT 1 FROM {schema}.settings WHERE key = '{bulk_load}')
     AND pg_catalog.pg_has_role(session_user, c.relowner, 'USAGE')
    FROM pg_catalog.pg_class c WHERE c.oid = '{schema}.users'::regclass
$$;
-- A failed run: hook's line in the deal's history (the hook ran after the commit, outside any trigger).
CREATE OR REPLACE FUNCTION salesselect_hook_failed(deal bigint, workflow text, problem text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, {schema}, pg_temp AS $$
BEGIN
  IF {schema}.salesselect_role() IS NULL OR NOT EXISTS (SELECT 1 FROM {schema}.workflows WHERE name = workflow) THEN
    RAISE EXCEPTION 'permission denied: % may not record a hook failure', session_user USING ERRCODE = '42501';
  END IF;
  INSERT INTO {schema}.history (opportunity_id, at, actor, field, from_value, to_value)
  VALUES (deal, {schema}.salesselect_now(), 'workflow:' || workflow, 'hook failed', NULL, problem);
END $$;
-- An import's backdated history: only for deals this transaction inserted (with salesselect.import on, the
-- insert trigger leaves their 'created' row to the import), and only deals the login may change.
CREATE OR REPLACE FUNCTION salesselect_import_history(deal bigint, at text, field text, from_value text,
                                                      to_value text, from_id bigint, to_id bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, {schema}, pg_temp AS $$
DECLARE
  mine xid;
BEGIN
  IF current_setting('salesselect.import', true) IS DISTINCT FROM 'on'
     OR NOT ({schema}.salesselect_may_change_deal(deal) OR {schema}.salesselect_quiet()) THEN
    RAISE EXCEPTION 'permission denied: % may only write the history of deals this import adds', session_user
      USING ERRCODE = '42501';
  END IF;
  INSERT INTO {schema}.history (opportunity_id, at, actor, field, from_value, to_value, from_id, to_id)
  VALUES (deal, at, {schema}.salesselect_actor(), field, from_value, to_value, from_id, to_id) RETURNING xmin INTO mine;
  -- the row just written carries this (sub)transaction's id: the deal must have been inserted by it too
  IF NOT EXISTS (SELECT 1 FROM {schema}.opportunities o WHERE o.id = deal AND o.xmin = mine) THEN
    RAISE EXCEPTION 'permission denied: % may only write the history of deals this import adds', session_user
      USING ERRCODE = '42501';
  END IF;
END $$;
-- After an import's rows went in with ids of their own: the identity moves past them (setval needs UPDATE on the
-- sequence, which no member holds), never back and never past the table's last id.
CREATE OR REPLACE FUNCTION salesselect_ids_taken(tbl text, last_id bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, {schema}, pg_temp AS $$
DECLARE
  seq text;
  top bigint;
BEGIN
  IF tbl IS DISTINCT FROM 'opportunities' OR ({schema}.salesselect_role() IS NULL AND NOT EXISTS (
       SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = '{schema}.users'::regclass
          AND pg_catalog.pg_has_role(session_user, c.relowner, 'USAGE'))) THEN
    RAISE EXCEPTION 'permission denied: % may not move the ids of %', session_user, tbl USING ERRCODE = '42501';
  END IF;
  seq := pg_catalog.pg_get_serial_sequence('{schema}.' || tbl, 'id');
  SELECT max(id) INTO top FROM {schema}.opportunities;
  PERFORM pg_catalog.setval(seq, GREATEST(LEAST(last_id, top), pg_catalog.pg_sequence_last_value(seq::regclass), 1));
END $$;
CREATE OR REPLACE FUNCTION salesselect_note(deal bigint, note text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, {schema}, pg_temp AS $$
BEGIN
  -- a deal the login may change, or one this transaction changed (handed over by the same command)
  IF NOT {schema}.salesselect_may_change_deal(deal) AND NOT EXISTS (
       SELECT 1 FROM {schema}.opportunities o
        WHERE o.id = deal AND o.xmin::text = (pg_catalog.txid_current() % 4294967296)::text) THEN
    RAISE EXCEPTION 'permission denied: % may not change deal #%', session_user, deal USING ERRCODE = '42501';
  END IF;
  IF NULLIF(btrim(note), '') IS NULL THEN
    RAISE EXCEPTION 'a note needs text' USING ERRCODE = '22023';
  END IF;
  INSERT INTO {schema}.history (opportunity_id, at, actor, field, from_value, to_value)
  VALUES (deal, {schema}.salesselect_now(), {schema}.salesselect_actor_or_workflow(), 'note', NULL, btrim(note));
END $$
"""

# --------------------------------------------------------------------------- the audit trail
# The same rows the client writes today (sql/opportunities.py, sql/followups.py, base._setup_log), in the
# same order, plus rows for the plain fields it never logged (title, company, contact, vacancy, notes, reason).
AUDIT_TRIGGERS = """
CREATE OR REPLACE FUNCTION salesselect_audit_deal() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, {schema}, pg_temp AS $$
DECLARE
  who text := salesselect_actor();
  at text := salesselect_now();
  reason text;
BEGIN
  IF salesselect_quiet() THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'DELETE' THEN
    INSERT INTO setup_log (at, actor, what, old_value, new_value, opportunity_id, history_mark)
    VALUES (at, who, 'opportunity purged', old.title || ' (' || old.company || ')', NULL, old.id,
            (SELECT max(id) FROM history));
    RETURN NULL;
  END IF;
  IF TG_OP = 'INSERT' THEN
    IF current_setting('salesselect.import', true) = 'on' THEN
      RETURN NULL;  -- the import writes the deal's backdated history (salesselect_import_history)
    END IF;
    INSERT INTO history (opportunity_id, at, actor, field, from_value, to_value, from_id, to_id)
    SELECT new.id, at, who, 'created', NULL, s.name, NULL, new.stage_id FROM stages s WHERE s.id = new.stage_id;
    IF NULLIF(btrim(new.notes), '') IS NOT NULL THEN
      INSERT INTO history (opportunity_id, at, actor, field, from_value, to_value)
      VALUES (new.id, at, who, 'note', NULL, btrim(new.notes));
    END IF;
    RETURN NULL;
  END IF;
  IF old.business_type_id IS DISTINCT FROM new.business_type_id THEN
    INSERT INTO history (opportunity_id, at, actor, field, from_value, to_value, from_id, to_id)
    VALUES (new.id, at, who, 'business_type', (SELECT name FROM business_types WHERE id = old.business_type_id),
            (SELECT name FROM business_types WHERE id = new.business_type_id), old.business_type_id,
            new.business_type_id);
  END IF;
  IF old.stage_id IS DISTINCT FROM new.stage_id THEN
    INSERT INTO history (opportunity_id, at, actor, field, from_value, to_value, from_id, to_id)
    VALUES (new.id, at, who, 'stage', (SELECT name FROM stages WHERE id = old.stage_id),
            (SELECT name FROM stages WHERE id = new.stage_id), old.stage_id, new.stage_id);
  END IF;
  IF old.status IS DISTINCT FROM new.status THEN
    reason := (SELECT text FROM reasons WHERE id = new.reason_id);
    INSERT INTO history (opportunity_id, at, actor, field, from_value, to_value, from_id, to_id)
    VALUES (new.id, at, who, 'status', old.status,
            CASE WHEN reason IS NULL THEN new.status ELSE new.status || ' (' || reason || ')' END,
            old.stage_id, new.reason_id);
  ELSIF old.reason_id IS DISTINCT FROM new.reason_id THEN
    INSERT INTO history (opportunity_id, at, actor, field, from_value, to_value, from_id, to_id)
    VALUES (new.id, at, who, 'reason', (SELECT text FROM reasons WHERE id = old.reason_id),
            (SELECT text FROM reasons WHERE id = new.reason_id), old.reason_id, new.reason_id);
  END IF;
  IF old.value_cents IS DISTINCT FROM new.value_cents THEN
    INSERT INTO history (opportunity_id, at, actor, field, from_value, to_value)
    VALUES (new.id, at, who, 'value', (old.value_cents / 100)::text || '.' || lpad((old.value_cents % 100)::text, 2, '0'),
            (new.value_cents / 100)::text || '.' || lpad((new.value_cents % 100)::text, 2, '0'));
  END IF;
  IF old.expected_close IS DISTINCT FROM new.expected_close THEN
    INSERT INTO history (opportunity_id, at, actor, field, from_value, to_value)
    VALUES (new.id, at, who, 'expected_close', old.expected_close, new.expected_close);
  END IF;
  IF old.probability IS DISTINCT FROM new.probability THEN  -- the deal's own win chance ('auto': the method's)
    INSERT INTO history (opportunity_id, at, actor, field, from_value, to_value)
    VALUES (new.id, at, who, 'probability', COALESCE(old.probability || '%', 'auto'),
            COALESCE(new.probability || '%', 'auto'));
  END IF;
  IF old.owner_id IS DISTINCT FROM new.owner_id THEN
    INSERT INTO history (opportunity_id, at, actor, field, from_value, to_value, from_id, to_id)
    VALUES (new.id, at, salesselect_actor_or_workflow(), 'owner', (SELECT name FROM users WHERE id = old.owner_id),
            (SELECT name FROM users WHERE id = new.owner_id), old.owner_id, new.owner_id);
  END IF;
  IF old.title IS DISTINCT FROM new.title THEN
    INSERT INTO history (opportunity_id, at, actor, field, from_value, to_value)
    VALUES (new.id, at, who, 'title', old.title, new.title);
  END IF;
  IF old.company IS DISTINCT FROM new.company THEN
    INSERT INTO history (opportunity_id, at, actor, field, from_value, to_value)
    VALUES (new.id, at, who, 'company', old.company, new.company);
  END IF;
  IF old.contact IS DISTINCT FROM new.contact THEN
    INSERT INTO history (opportunity_id, at, actor, field, from_value, to_value)
    VALUES (new.id, at, who, 'contact', old.contact, new.contact);
  END IF;
  IF old.vacancy IS DISTINCT FROM new.vacancy THEN
    INSERT INTO history (opportunity_id, at, actor, field, from_value, to_value)
    VALUES (new.id, at, who, 'vacancy', old.vacancy, new.vacancy);
  END IF;
  IF old.notes IS DISTINCT FROM new.notes THEN
    INSERT INTO history (opportunity_id, at, actor, field, from_value, to_value)
    VALUES (new.id, at, who, 'notes', old.notes, new.notes);
  END IF;
  IF old.deleted IS NULL AND new.deleted IS NOT NULL THEN
    INSERT INTO setup_log (at, actor, what, old_value, new_value, opportunity_id, history_mark)
    VALUES (at, who, 'opportunity deleted', old.title || ' (' || old.company || ')', 'trash', new.id,
            (SELECT max(id) FROM history));
  ELSIF old.deleted IS NOT NULL AND new.deleted IS NULL THEN
    INSERT INTO setup_log (at, actor, what, old_value, new_value, opportunity_id, history_mark)
    VALUES (at, who, 'opportunity restored', 'trash', new.title || ' (' || new.company || ')', new.id,
            (SELECT max(id) FROM history));
  END IF;
  RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS salesselect_audit_deal ON opportunities;
CREATE TRIGGER salesselect_audit_deal AFTER INSERT OR UPDATE OR DELETE ON opportunities
FOR EACH ROW EXECUTE FUNCTION salesselect_audit_deal();

CREATE OR REPLACE FUNCTION salesselect_audit_followup() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, {schema}, pg_temp AS $$
DECLARE
  who text := salesselect_actor();
  at text := salesselect_now();
BEGIN
  IF salesselect_quiet() THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'INSERT' THEN
    INSERT INTO history (opportunity_id, at, actor, field, from_value, to_value)
    VALUES (new.opportunity_id, at, salesselect_actor_or_workflow(), 'followup', NULL, new.due || ' ' || new.text);
  ELSIF TG_OP = 'DELETE' THEN
    -- a purge's cascade removes the deal's follow-ups with it: nothing left to write on
    IF EXISTS (SELECT 1 FROM opportunities WHERE id = old.opportunity_id) THEN
      INSERT INTO history (opportunity_id, at, actor, field, from_value, to_value, from_id, to_id)
      VALUES (old.opportunity_id, at, who, 'followup removed', old.due || ' ' || old.text, NULL, old.id, NULL);
    END IF;
  ELSE
    IF (old.due, old.text) IS DISTINCT FROM (new.due, new.text) THEN
      INSERT INTO history (opportunity_id, at, actor, field, from_value, to_value, from_id, to_id)
      VALUES (new.opportunity_id, at, who, 'followup edited', old.due || ' ' || old.text,
              new.due || ' ' || new.text, new.id, new.id);
    END IF;
    IF old.status = 'open' AND new.status = 'done' THEN
      INSERT INTO history (opportunity_id, at, actor, field, from_value, to_value)
      VALUES (new.opportunity_id, at, who, 'followup done', NULL, old.due || ' ' || old.text);
    ELSIF old.status = 'open' AND new.status = 'cancelled' THEN
      INSERT INTO history (opportunity_id, at, actor, field, from_value, to_value, from_id, to_id)
      VALUES (new.opportunity_id, at, who, 'followup cancelled', NULL, old.due || ' ' || old.text, old.id, NULL);
    ELSIF old.status = 'cancelled' AND new.status = 'open' THEN  -- an undo brings it back
      INSERT INTO history (opportunity_id, at, actor, field, from_value, to_value, from_id, to_id)
      VALUES (new.opportunity_id, at, who, 'followup reopened', NULL, old.due || ' ' || old.text, old.id, NULL);
    END IF;
  END IF;
  RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS salesselect_audit_followup ON followups;
CREATE TRIGGER salesselect_audit_followup AFTER INSERT OR UPDATE OR DELETE ON followups
FOR EACH ROW EXECUTE FUNCTION salesselect_audit_followup();

-- A setup column's value in the log's words: yes/no flags, 'none' and 'inherit' for unset.
CREATE OR REPLACE FUNCTION salesselect_setup_word(col text, value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
  SELECT CASE WHEN col IN ('key_user', 'enabled', 'archived') THEN CASE value WHEN '1' THEN 'yes' ELSE 'no' END
              WHEN col = 'auto_status' THEN COALESCE(value, 'none')
              WHEN col = 'module' THEN COALESCE(value, 'inherit')
              ELSE value END
$$;

-- A workflow in one line, as sql/workflows._summary writes it: its trigger, filters and actions.
CREATE OR REPLACE FUNCTION salesselect_workflow_summary(w jsonb) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, {schema}, pg_temp AS $$
  SELECT concat_ws(', ', 'on ' || (w ->> 'trigger'),
           'from stage ' || (SELECT name FROM {schema}.stages WHERE id = (w ->> 'from_stage_id')::bigint),
           'to stage ' || (SELECT name FROM {schema}.stages WHERE id = (w ->> 'to_stage_id')::bigint),
           'to status ' || NULLIF(w ->> 'to_status', ''),
           'business type ' || (SELECT name FROM {schema}.business_types WHERE id = (w ->> 'business_type_id')::bigint),
           'actions ' || (SELECT string_agg(a, '; ') FROM jsonb_array_elements_text((w ->> 'actions')::jsonb) a),
           'env ' || NULLIF((SELECT string_agg(e, ', ') FROM jsonb_array_elements_text(COALESCE(w ->> 'env', '[]')::jsonb) e), ''),
           CASE WHEN w ->> 'enabled' = '0' THEN 'disabled' END)
$$;

-- The setup log from the row: users (role, key user, module), settings, workflows, the setup lists.
CREATE OR REPLACE FUNCTION salesselect_audit_setup() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, {schema}, pg_temp AS $$
DECLARE
  who text := salesselect_actor();
  at text := salesselect_now();
  mark bigint := (SELECT max(id) FROM history);
  o jsonb := CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(old) END;
  n jsonb := CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(new) END;
  kind text := CASE TG_TABLE_NAME WHEN 'business_types' THEN 'business type' WHEN 'stages' THEN 'stage'
                 WHEN 'sources' THEN 'source' WHEN 'reasons' THEN 'reason' WHEN 'workflows' THEN 'workflow'
                 WHEN 'users' THEN 'user' ELSE TG_TABLE_NAME END;
  label text := COALESCE(n ->> 'name', o ->> 'name', n ->> 'text', o ->> 'text');
  col text;
  old_orange text;
BEGIN
  IF salesselect_quiet() THEN
    RETURN NULL;
  END IF;
  IF TG_TABLE_NAME = 'settings' THEN
    IF COALESCE(n ->> 'key', o ->> 'key') IN ('orange_days', 'red_days') THEN
      -- the indicator is one setting in two rows, set together (orange first): logged once, by the red row,
      -- when either changed (the orange row leaves its old value in a transaction-local setting)
      IF COALESCE(n ->> 'key', o ->> 'key') = 'orange_days' THEN
        PERFORM set_config('salesselect.old_orange', COALESCE(o ->> 'value', '-'), true);
        RETURN NULL;
      END IF;
      old_orange := COALESCE(NULLIF(current_setting('salesselect.old_orange', true), ''),
                             (SELECT value FROM settings WHERE key = 'orange_days'));
      PERFORM set_config('salesselect.old_orange', '', true);
      IF (NULLIF(old_orange, '-'), o ->> 'value') IS DISTINCT FROM
         ((SELECT value FROM settings WHERE key = 'orange_days'), n ->> 'value') THEN
        INSERT INTO setup_log (at, actor, what, old_value, new_value, history_mark)
        VALUES (at, who, 'indicator',
                CASE WHEN o ->> 'value' IS NULL OR old_orange = '-' THEN NULL
                     ELSE 'orange ' || old_orange || ', red ' || (o ->> 'value') END,
                'orange ' || (SELECT value FROM settings WHERE key = 'orange_days') || ', red ' || (n ->> 'value'), mark);
      END IF;
      RETURN NULL;
    END IF;
    IF COALESCE(n ->> 'key', o ->> 'key') = '{bulk_load}' OR COALESCE(n ->> 'key', o ->> 'key') LIKE '{hook_run}%'
       OR (TG_OP = 'UPDATE' AND o ->> 'value' IS NOT DISTINCT FROM n ->> 'value') THEN
      RETURN NULL;
    END IF;
    INSERT INTO setup_log (at, actor, what, old_value, new_value, history_mark)
    SELECT at, who, CASE k WHEN 'workflow_timeout' THEN 'workflow time limit' ELSE k END,
           CASE WHEN k = 'workflow_timeout' THEN COALESCE(o ->> 'value', 'default') ELSE o ->> 'value' END,
           CASE WHEN k = 'workflow_timeout' THEN COALESCE(n ->> 'value', 'default') ELSE n ->> 'value' END, mark
      FROM (SELECT COALESCE(n ->> 'key', o ->> 'key') AS k) key;
    RETURN NULL;
  END IF;
  IF TG_TABLE_NAME = 'stage_business_types' THEN
    INSERT INTO setup_log (at, actor, what, old_value, new_value, history_mark)
    SELECT at, who, 'stage ' || s.name || CASE WHEN TG_OP = 'INSERT' THEN ' linked' ELSE ' unlinked' END,
           CASE WHEN TG_OP = 'DELETE' THEN bt.name END, CASE WHEN TG_OP = 'INSERT' THEN bt.name END, mark
      FROM stages s, business_types bt
     WHERE bt.id = (COALESCE(n, o) ->> 'business_type_id')::bigint AND s.id = (COALESCE(n, o) ->> 'stage_id')::bigint;
    RETURN NULL;
  END IF;
  IF TG_TABLE_NAME = 'reasons' THEN  -- the client's words: 'lost reason price added', 'reason changed'
    IF TG_OP = 'UPDATE' THEN
      IF (o ->> 'text', o ->> 'status') IS DISTINCT FROM (n ->> 'text', n ->> 'status') THEN
        INSERT INTO setup_log (at, actor, what, old_value, new_value, history_mark)
        VALUES (at, who, 'reason changed', (o ->> 'text') || ' (' || (o ->> 'status') || ')',
                (n ->> 'text') || ' (' || (n ->> 'status') || ')', mark);
      END IF;
    ELSE
      INSERT INTO setup_log (at, actor, what, old_value, new_value, history_mark)
      VALUES (at, who, (COALESCE(n, o) ->> 'status') || ' reason ' || (COALESCE(n, o) ->> 'text')
                       || CASE TG_OP WHEN 'INSERT' THEN ' added' ELSE ' removed' END, NULL, NULL, mark);
    END IF;
    RETURN NULL;
  END IF;
  IF TG_OP = 'INSERT' THEN
    INSERT INTO setup_log (at, actor, what, old_value, new_value, history_mark)
    VALUES (at, who, kind || ' ' || label || ' added', NULL,
            CASE TG_TABLE_NAME WHEN 'users' THEN (n ->> 'role') || CASE WHEN n ->> 'key_user' = '1' THEN ', key user' ELSE '' END
                               WHEN 'business_types' THEN n ->> 'color'
                               WHEN 'workflows' THEN salesselect_workflow_summary(n) END, mark);
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO setup_log (at, actor, what, old_value, new_value, history_mark)
    VALUES (at, who, kind || ' ' || label || ' removed',
            CASE TG_TABLE_NAME WHEN 'users' THEN (o ->> 'role') || CASE WHEN o ->> 'key_user' = '1' THEN ', key user' ELSE '' END
                               WHEN 'business_types' THEN o ->> 'color'
                               WHEN 'workflows' THEN salesselect_workflow_summary(o) END,
            NULL, mark);
  ELSE
    FOR col IN SELECT key FROM jsonb_each(n) WHERE value IS DISTINCT FROM o -> key AND key NOT IN ('id', 'created')
               ORDER BY CASE key WHEN 'name' THEN 0 ELSE 1 END, key LOOP
      INSERT INTO setup_log (at, actor, what, old_value, new_value, history_mark)
      VALUES (at, who, CASE WHEN col = 'name' THEN kind || ' renamed'
                            ELSE kind || ' ' || label || ' ' || CASE col WHEN 'color' THEN 'colour'
                                 WHEN 'auto_status' THEN 'auto-select' ELSE replace(col, '_', ' ') END END,
              salesselect_setup_word(col, o ->> col), salesselect_setup_word(col, n ->> col), mark);
    END LOOP;
  END IF;
  RETURN NULL;
END $$;
-- The bulk-load flag steps the derived tables' triggers aside for one import's transaction: committed, it would
-- stop stage visits and funnel counts for everyone, so no transaction may end with it still set.
CREATE OR REPLACE FUNCTION salesselect_bulk_load_ends() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, {schema}, pg_temp AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM {schema}.settings WHERE key = '{bulk_load}') THEN
    RAISE EXCEPTION 'permission denied: the bulk-load flag lasts one transaction; delete it before COMMIT'
      USING ERRCODE = '42501';
  END IF;
  RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS salesselect_bulk_load_ends ON {schema}.settings;
CREATE CONSTRAINT TRIGGER salesselect_bulk_load_ends AFTER INSERT OR UPDATE ON {schema}.settings
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.key = '{bulk_load}')
  EXECUTE FUNCTION salesselect_bulk_load_ends()
"""

# Goals (managers' setup, logged like the setup) and undo steps (a user's own; marking one undone writes the
# 'undo' row and takes back the notes the step wrote, the only way a member's history row is ever removed).
STEP_TRIGGERS = """
CREATE OR REPLACE FUNCTION salesselect_money(cents bigint) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
  SELECT CASE WHEN cents IS NOT NULL THEN (cents / 100)::text || '.' || lpad((cents % 100)::text, 2, '0') END
$$;
CREATE OR REPLACE FUNCTION salesselect_audit_goal() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, {schema}, pg_temp AS $$
DECLARE
  who text := salesselect_actor();
  at text := salesselect_now();
  owner_name text;
BEGIN
  IF salesselect_quiet() OR (TG_OP = 'UPDATE' AND old.amount_cents = new.amount_cents) THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'DELETE' THEN
    owner_name := (SELECT name FROM users WHERE id = old.owner_id);
    IF owner_name IS NOT NULL THEN  -- a removed user's goals go with the user ('user ... removed' says it)
      INSERT INTO setup_log (at, actor, what, old_value, new_value, history_mark)
      VALUES (at, who, 'goal ' || owner_name || ' ' || old.period_start || ' to ' || old.period_end,
              salesselect_money(old.amount_cents), NULL, (SELECT max(id) FROM history));
    END IF;
    RETURN NULL;
  END IF;
  INSERT INTO setup_log (at, actor, what, old_value, new_value, history_mark)
  SELECT at, who, 'goal ' || u.name || ' ' || new.period_start || ' to ' || new.period_end,
         CASE WHEN TG_OP = 'UPDATE' THEN salesselect_money(old.amount_cents) END, salesselect_money(new.amount_cents),
         (SELECT max(id) FROM history)
    FROM users u WHERE u.id = new.owner_id;
  RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS salesselect_audit_goal ON goals;
CREATE TRIGGER salesselect_audit_goal AFTER INSERT OR UPDATE OR DELETE ON goals
FOR EACH ROW EXECUTE FUNCTION salesselect_audit_goal();

CREATE OR REPLACE FUNCTION salesselect_undo_step() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, {schema}, pg_temp AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    new.actor := salesselect_actor();  -- who took the step is the database's word, as in history
    RETURN new;
  END IF;
  IF old.undone IS NULL AND new.undone IS NOT NULL THEN
    INSERT INTO history (opportunity_id, at, actor, field, from_value, to_value, from_id, to_id)
    VALUES (new.opportunity_id, salesselect_now(), salesselect_actor(), 'undo', NULL, new.action, new.id, NULL);
    DELETE FROM history WHERE opportunity_id = new.opportunity_id AND field = 'note' AND id > new.history_from
                          AND id <= new.history_to AND (actor = new.actor OR actor LIKE 'workflow:%');
  END IF;
  RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS salesselect_undo_step_taken ON undo_log;
CREATE TRIGGER salesselect_undo_step_taken BEFORE INSERT ON undo_log
FOR EACH ROW EXECUTE FUNCTION salesselect_undo_step();
DROP TRIGGER IF EXISTS salesselect_undo_step_undone ON undo_log;
CREATE TRIGGER salesselect_undo_step_undone AFTER UPDATE OF undone ON undo_log
FOR EACH ROW EXECUTE FUNCTION salesselect_undo_step();
"""

# Who may use the database follows the users table at once: adding, removing a user or changing the role or
# key-user flag grants the login its group (and takes the others), in the same transaction, whoever writes the
# row (the CLI or a key user in psql). Logins that do not exist yet are left to `user add` (member_login).
MEMBER_FUNCTIONS = """
CREATE OR REPLACE FUNCTION salesselect_sync_member(member text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, {schema}, pg_temp AS $$
DECLARE
  login text;
  wanted text;
  grp text;
BEGIN
  IF NOT ({schema}.salesselect_by_owner() OR {schema}.salesselect_is_key_user()) THEN
    RAISE EXCEPTION 'permission denied: only a key user changes who may use this database' USING ERRCODE = '42501';
  END IF;
  SELECT rolname INTO login FROM pg_roles WHERE lower(rolname) = lower(btrim(member))
   ORDER BY rolname = btrim(member) DESC, rolname LIMIT 1;
  IF login IS NULL THEN
    RETURN false;
  END IF;
  IF (SELECT oid FROM pg_roles WHERE rolname = login) = (SELECT relowner FROM pg_class WHERE oid = '{schema}.users'::regclass) THEN
    RETURN true;  -- the tables' owner holds every right already (and its ADMIN OPTION on the groups): never touched
  END IF;
  SELECT CASE WHEN key_user = 1 THEN {keyuser} WHEN role = 'manager' THEN {manager} ELSE {recruiter} END INTO wanted
    FROM {schema}.users WHERE lower(btrim(name)) = lower(btrim(member)) ORDER BY id LIMIT 1;
  FOREACH grp IN ARRAY ARRAY[{recruiter}, {manager}, {keyuser}] LOOP
    IF grp IS DISTINCT FROM wanted AND EXISTS (
         SELECT 1 FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles r ON r.oid = m.member
          WHERE g.rolname = grp AND r.rolname = login) THEN
      EXECUTE format('REVOKE %I FROM %I', grp, login);
    END IF;
  END LOOP;
  IF wanted IS NOT NULL AND NOT EXISTS (
       SELECT 1 FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles r ON r.oid = m.member
        WHERE g.rolname = wanted AND r.rolname = login) THEN
    EXECUTE format('GRANT %I TO %I', wanted, login);
  END IF;
  RETURN true;
END $$;
CREATE OR REPLACE FUNCTION salesselect_members_follow_users() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, {schema}, pg_temp AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    PERFORM {schema}.salesselect_sync_member(old.name);
  END IF;
  IF TG_OP <> 'DELETE' THEN
    PERFORM {schema}.salesselect_sync_member(new.name);
  END IF;
  RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS salesselect_members_follow_users ON {schema}.users;
CREATE TRIGGER salesselect_members_follow_users AFTER INSERT OR DELETE OR UPDATE OF name, role, key_user
ON {schema}.users FOR EACH ROW EXECUTE FUNCTION salesselect_members_follow_users();
"""

# The derived tables' triggers (schema.py) run as the owner, so members never write funnel_counts themselves.
DERIVED_FUNCTIONS = ("stage_visits_on_history()", "stage_visits_on_opportunity()", "stage_visits_days()",
                     "funnel_counts_on_visit()")


def _policies(schema: str) -> list[str]:
    s = schema
    # (SELECT f()) is an InitPlan: worked out once per statement, not once per row
    member = f"(SELECT {s}.salesselect_role()) IS NOT NULL"
    any_ = f"(SELECT {s}.salesselect_may_change_any())"
    key = f"(SELECT {s}.salesselect_is_key_user())"
    owner = f"(SELECT {s}.salesselect_by_owner())"
    me = f"(SELECT {s}.salesselect_login_user())"
    mine = f"owner_id = {me}"
    deal = f"{s}.salesselect_may_change_deal(opportunity_id)"
    rules = {
        "opportunities": [
            ("read", "SELECT", f"{owner} OR {member}", None),
            ("add", "INSERT", None, f"{owner} OR {any_} OR {mine}"),
            # the owner of a deal may hand it over (as `opp edit --owner` allows): the check is on the old row
            ("change", "UPDATE", f"{owner} OR {any_} OR {mine}", f"{owner} OR {member}"),
            ("purge", "DELETE", f"{owner} OR ({key} AND deleted IS NOT NULL)", None),
        ],
        "followups": [
            ("read", "SELECT", f"{owner} OR {member}", None),
            ("add", "INSERT", None, f"{owner} OR {deal}"),
            ("change", "UPDATE", f"{owner} OR {deal} OR user_id = {me}", f"{owner} OR {deal} OR user_id = {me}"),
            ("remove", "DELETE", f"{owner} OR {deal} OR user_id = {me}", None),
        ],
        "stage_visits": [  # trash and restore rebuild a deal's visits themselves
            ("read", "SELECT", f"{owner} OR {member}", None),
            ("add", "INSERT", None, f"{owner} OR {deal}"),
            ("change", "UPDATE", f"{owner} OR {deal}", f"{owner} OR {deal}"),
            ("remove", "DELETE", f"{owner} OR {deal}", None),
        ],
        "funnel_counts": [("read", "SELECT", f"{owner} OR {member}", None), ("derived", "ALL", owner, owner)],
        "history": [("read", "SELECT", f"{owner} OR {member}", None), ("trigger", "INSERT", None, owner),
                    ("undo", "DELETE", owner, None)],  # an undone step's notes (salesselect_undo_step)
        "undo_log": [
            ("read", "SELECT", f"{owner} OR {member}", None),
            ("add", "INSERT", None, f"{owner} OR {key} OR user_id = {me}"),
            ("undone", "UPDATE", f"{owner} OR {key} OR user_id = {me}", f"{owner} OR {key} OR user_id = {me}"),
        ],
        "goals": [("read", "SELECT", f"{owner} OR {member}", None), ("managers", "ALL", f"{owner} OR {any_}", f"{owner} OR {any_}")],
        "setup_log": [("read", "SELECT", f"{owner} OR {member}", None), ("trigger", "INSERT", None, owner)],
        # names of migrations only: a login granted but not (or no longer) a user reads it, to be told so
        RECORD_TABLE: [("read", "SELECT", "true", None), ("owner", "ALL", owner, owner)],
        "settings": [
            ("read", "SELECT", f"{owner} OR {member}", None),
            ("key users", "ALL", f"{owner} OR {key}", f"{owner} OR {key}"),
            ("bulk load", "ALL", f"{member} AND key = '{BULK_LOAD_KEY}'", f"{member} AND key = '{BULK_LOAD_KEY}'"),
        ],
    }
    for table in SETUP_TABLES + ("users",):
        rules[table] = [("read", "SELECT", f"{owner} OR {member}", None),
                        ("key users", "ALL", f"{owner} OR {key}", f"{owner} OR {key}")]
    statements = []
    for table, policies in rules.items():
        statements.append(f"ALTER TABLE {s}.{table} ENABLE ROW LEVEL SECURITY")
        # users stays unforced: the definer functions read it as its owner (see FUNCTIONS)
        statements.append(f"ALTER TABLE {s}.{table} {'NO ' if table == 'users' else ''}FORCE ROW LEVEL SECURITY")
        for name, command, using, check in policies:
            policy = _ident(f"salesselect {name}")
            statements.append(f"DROP POLICY IF EXISTS {policy} ON {s}.{table}")
            clause = f"CREATE POLICY {policy} ON {s}.{table} FOR {command} TO PUBLIC"
            if using:
                clause += f" USING ({using})"
            if check:
                clause += f" WITH CHECK ({check})"
            statements.append(clause)
    return statements


def _privileges(schema: str, database: str) -> list[str]:
    """What each group holds: reading for all; deals for recruiters and managers; everything but the audit
    trail for key users. TRUNCATE for nobody; nothing for PUBLIC."""
    s = schema
    groups = {role: _ident(group_role(database, role)) for role in ROLES}
    everyone = ", ".join(groups.values())
    tables = ", ".join(f"{s}.{t}" for t in ALL_TABLES)
    statements = [
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {s} FROM PUBLIC",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {s} FROM PUBLIC",
        f"REVOKE ALL ON ALL FUNCTIONS IN SCHEMA {s} FROM PUBLIC",
        f"REVOKE CREATE ON SCHEMA {s} FROM PUBLIC",
        f"REVOKE ALL ON {tables} FROM {everyone}",
        f"GRANT USAGE ON SCHEMA {s} TO {everyone}",
        f"GRANT SELECT ON {tables} TO {everyone}",
        f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {s} TO {everyone}",
        f"GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA {s} TO {everyone}",
        f"GRANT INSERT, UPDATE ON {s}.opportunities TO {everyone}",
        f"GRANT INSERT, UPDATE, DELETE ON {s}.followups, {s}.stage_visits TO {everyone}",
        f"GRANT INSERT, UPDATE, DELETE ON {s}.settings TO {everyone}",  # the policies narrow it to the bulk-load flag
        f"GRANT INSERT, UPDATE ON {s}.undo_log TO {everyone}",
        f"GRANT INSERT, UPDATE, DELETE ON {s}.goals TO {groups['manager']}, {groups['keyuser']}",
        f"GRANT DELETE ON {s}.opportunities TO {groups['keyuser']}",
        f"GRANT INSERT, UPDATE, DELETE ON {', '.join(f'{s}.{t}' for t in KEY_USER_TABLES)} TO {groups['keyuser']}",
        # a later migration's new table is readable by members at once, and its functions are theirs alone;
        # install() runs again after migrations to give the table its rules
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {s} GRANT SELECT ON TABLES TO {everyone}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {s} GRANT USAGE ON SEQUENCES TO {everyone}",
        f"ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {s} GRANT EXECUTE ON FUNCTIONS TO {everyone}",
    ]
    return statements


@dataclass(frozen=True)
class Database:
    """Where install() works: the database's name (for the group names) and the schema the tables are in."""

    name: str
    schema: str


def where(conn) -> Database:
    name, schema = conn.execute("SELECT current_database(), current_schema()").fetchone()
    return Database(name, schema)


def missing_roles_sql(conn) -> list[str]:
    """The CREATE ROLE lines an administrator runs when the owner may not create roles (empty when none)."""
    db = where(conn)
    missing = [group_role(db.name, role) for role in ROLES
               if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [group_role(db.name, role)]).fetchone() is None]
    if not missing:
        return []
    owner = conn.execute("SELECT current_user").fetchone()[0]
    return [f"CREATE ROLE {_ident(name)} NOLOGIN; GRANT {_ident(name)} TO {_ident(owner)} WITH ADMIN OPTION;"
            for name in missing]


def _may_create_roles(conn) -> bool:
    row = conn.execute("SELECT rolcreaterole OR rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
    return bool(row and row[0])


class NeedsAdministrator(Exception):
    """The owner's login may not create roles: `sql` is what an administrator runs once."""

    def __init__(self, sql: str):
        super().__init__(sql)
        self.sql = sql


def install(conn) -> None:
    """Groups, privileges, policies and audit triggers on this database (run by its owner; idempotent).

    Raises NeedsAdministrator with the SQL to run when the groups are missing and the owner may not make them.
    `conn` is psycopg's connection (or the migration runner's wrapper with .execute)."""
    db = where(conn)
    schema = _ident(db.schema)
    missing = missing_roles_sql(conn)
    if missing:
        if not _may_create_roles(conn):
            raise NeedsAdministrator(" ".join(missing))
        for role in ROLES:
            name = group_role(db.name, role)
            if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [name]).fetchone() is None:
                conn.execute(f"CREATE ROLE {_ident(name)} NOLOGIN")
    for statement in _split(FUNCTIONS.format(schema=schema, bulk_load=BULK_LOAD_KEY)):
        conn.execute(statement)
    for function in DERIVED_FUNCTIONS:
        conn.execute(f"ALTER FUNCTION {schema}.{function} SECURITY DEFINER SET search_path = pg_catalog, {schema}, pg_temp")
    for statement in _split(AUDIT_TRIGGERS.format(schema=schema, bulk_load=BULK_LOAD_KEY, hook_run=HOOK_RUN_PREFIX)):
        conn.execute(statement)
    for statement in _split(STEP_TRIGGERS.format(schema=schema)):
        conn.execute(statement)
    groups = {role: _literal(group_role(db.name, role)) for role in ROLES}
    for statement in _split(MEMBER_FUNCTIONS.format(schema=schema, **groups)):
        conn.execute(statement)
    for table in KEY_USER_TABLES:
        conn.execute(f"DROP TRIGGER IF EXISTS salesselect_audit_setup ON {schema}.{table}")
        conn.execute(f"CREATE TRIGGER salesselect_audit_setup AFTER INSERT OR UPDATE OR DELETE ON {schema}.{table} "
                     "FOR EACH ROW EXECUTE FUNCTION salesselect_audit_setup()")
    for statement in _policies(schema) + _privileges(schema, db.name) + _hand_grants_taken(conn, db):
        conn.execute(statement)
    # the users already there (an upgrade, a copy): their logins get their groups now
    conn.execute(f"SELECT {schema}.salesselect_sync_member(name) FROM {schema}.users")


def _hand_grants_taken(conn, db: "Database") -> list[str]:
    """REVOKEs for rights given by hand before the database kept its rules (the old README's GRANTs to each
    login): from then on a login holds only its group's."""
    groups = [group_role(db.name, role) for role in ROLES]
    grantees = [row[0] for row in conn.execute(
        """SELECT DISTINCT r.rolname FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a
             JOIN pg_roles r ON r.oid = a.grantee
            WHERE c.relnamespace = %s::regnamespace AND c.relkind IN ('r', 'S') AND a.grantee <> c.relowner
            ORDER BY 1""", [db.schema]).fetchall() if row[0] not in groups]
    schema = _ident(db.schema)
    return [f"REVOKE ALL ON ALL {kind} IN SCHEMA {schema} FROM {_ident(name)}"
            for name in grantees for kind in ("TABLES", "SEQUENCES")]


def _split(script: str) -> list[str]:
    """Statements separated by ';' at line ends outside $$ bodies."""
    statements, current, inside = [], [], False
    for line in script.splitlines():
        inside ^= line.count("$$") % 2 == 1
        current.append(line)
        if not inside and line.rstrip().endswith(";"):
            statements.append("\n".join(current).strip().rstrip(";"))
            current = []
    rest = "\n".join(current).strip()
    if rest:
        statements.append(rest.rstrip(";"))
    return [s for s in statements if s and not all(l.startswith("--") for l in s.splitlines())]


def m050_pg_security(db) -> None:
    """The migration (PostgreSQL only; schema.m050_pg_security): install() needs psycopg's own connection."""
    if getattr(db.conn, "backend", "sqlite") == "postgresql":
        install(db.conn.raw)


# --------------------------------------------------------------------------- members

@dataclass(frozen=True)
class Grant:
    """What grant_member did: `done` True when the login holds the role's rights now; else `sql` is the one
    line an administrator runs (the login does not exist and this login may not create it)."""

    done: bool
    sql: str | None = None


def grant_member(conn, login: str, role: str, key_user: bool = False) -> Grant:
    """Give `login` the rights of `role` ('recruiter' or 'manager'; key users get the key-user group) on this
    database, taking any other salesselect group away; creates the login when this login may create roles."""
    db = where(conn)
    group = group_role(db.name, "keyuser" if key_user else role)
    exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [login]).fetchone() is not None
    if not exists:
        if not _may_create_roles(conn):
            return Grant(False, f"CREATE ROLE {_ident(login)} LOGIN PASSWORD 'choose-one' IN ROLE {_ident(group)};")
        conn.execute(f"CREATE ROLE {_ident(login)} LOGIN")
    for other in ROLES:
        if group_role(db.name, other) != group:
            conn.execute(f"REVOKE {_ident(group_role(db.name, other))} FROM {_ident(login)}")
    conn.execute(f"GRANT {_ident(group)} TO {_ident(login)}")
    return Grant(True)


def member_login(conn, name: str) -> str | None:
    """After `user add NAME` (the users row is written, its trigger granted an existing login): make the login
    NAME when this login may create roles and give it its group; None when the login can connect now, else the
    one SQL line an administrator runs (the login does not exist and this login may not create it)."""
    if conn.execute("SELECT 1 FROM pg_roles WHERE lower(rolname) = lower(btrim(%s))", [name]).fetchone() is not None:
        return None
    if not _may_create_roles(conn):
        db = where(conn)
        row = conn.execute("SELECT role, key_user FROM users WHERE lower(btrim(name)) = lower(btrim(%s)) ORDER BY id "
                           "LIMIT 1", [name]).fetchone()
        group = group_role(db.name, "keyuser" if row and row[1] else (row[0] if row else "recruiter"))
        return f"CREATE ROLE {_ident(name.strip())} LOGIN PASSWORD 'choose-one' IN ROLE {_ident(group)};"
    conn.execute(f"CREATE ROLE {_ident(name.strip())} LOGIN")
    conn.execute("SELECT salesselect_sync_member(%s)", [name])
    return None


def revoke_member(conn, login: str) -> None:
    """Take every salesselect group of this database from `login` (the login itself stays: it may serve others)."""
    db = where(conn)
    if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [login]).fetchone() is None:
        return
    for role in ROLES:
        conn.execute(f"REVOKE {_ident(group_role(db.name, role))} FROM {_ident(login)}")
