"""Leak tests for PostgreSQL's own enforcement of the team rules (sql/pg_security.py, issue 24).

Modelled on PostgreSQL's src/test/regress/sql/rowsecurity.sql: ordinary logins (no superuser, no CREATEROLE)
run raw SQL through psycopg against every table -- read, insert, update, delete, truncate -- and each answer
is counted; where nothing was allowed, every table is identical afterwards (compared by the cluster's
superuser, whom row security does not bind).
"""

from __future__ import annotations

import contextlib
import os

import pytest

from tests.conftest import ON_POSTGRES

pytestmark = pytest.mark.skipif(not ON_POSTGRES, reason="needs the PostgreSQL pass (SALESSELECT_TEST_BACKEND)")

OWNER, RITA, ROB, MAX, KIM, NOBODY = "leak_owner", "leak_rita", "leak_rob", "leak_max", "leak_kim", "leak_nobody"
MEMBERS = {RITA: "recruiter", ROB: "recruiter", MAX: "manager", KIM: "keyuser"}
DEALS = {RITA: 3, ROB: 2, MAX: 1}  # open deals per owner
TOTAL = sum(DEALS.values())


def _login(admin, name: str, createrole: bool = False) -> None:
    import psycopg

    try:
        admin.execute(f'CREATE ROLE "{name}" LOGIN NOSUPERUSER {"CREATEROLE" if createrole else "NOCREATEROLE"}')
    except psycopg.errors.DuplicateObject:
        pass  # another worker of this cluster made it first


@pytest.fixture
def secured(cli):
    """A salesselect database initialised by an ordinary owner login, seeded, then secured; yields a helper."""
    import psycopg

    from salesselect_cli.sql import pg_security
    from tests.conftest import pg_cluster

    cluster = pg_cluster()
    for name in (RITA, ROB, MAX, KIM, NOBODY):
        _login(cluster.admin, name)
    _login(cluster.admin, OWNER, createrole=True)
    with _owned_database(cluster, OWNER) as database:
        url = cluster.url_for(database, OWNER)
        run = cli("--db", url, "init", env={"SALESSELECT_USER": OWNER})
        assert run.exit_code == 0, run.stderr
        with psycopg.connect(url, autocommit=True) as owner:
            _seed(owner)
            pg_security.install(owner)
            for login, role in MEMBERS.items():
                grant = pg_security.grant_member(owner, login, "manager" if role == "manager" else "recruiter",
                                                 key_user=role == "keyuser")
                assert grant.done
        with psycopg.connect(cluster.url_for(database, "postgres"), autocommit=True) as admin:
            admin.execute("DELETE FROM setup_log; DELETE FROM history")  # the tests count only their own rows
        yield Secured(cluster, database)



@contextlib.contextmanager
def _owned_database(cluster, owner: str):
    """A fresh database owned by `owner` (a login made with _login), dropped afterwards with its group roles."""
    from salesselect_cli.sql import pg_security

    database = f"leak_{os.getpid()}_{cluster.new_database()}"
    cluster.admin.execute(f'CREATE DATABASE "{database}" OWNER "{owner}" TEMPLATE template0')
    try:
        yield database
    finally:
        cluster.admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        for role in pg_security.ROLES:
            cluster.admin.execute(f'DROP ROLE IF EXISTS "{pg_security.group_role(database, role)}"')

def _seed(conn) -> None:
    conn.execute("INSERT INTO business_types (name, color) VALUES ('Staffing', 'blue')")
    conn.execute("INSERT INTO stages (name, position) VALUES ('Lead', 1), ('Proposal', 2)")
    conn.execute("INSERT INTO stage_business_types SELECT s.id, b.id FROM stages s, business_types b")
    conn.execute("INSERT INTO sources (name) VALUES ('HubSpot')")
    conn.execute("INSERT INTO reasons (text, status) VALUES ('price', 'lost')")
    conn.execute("INSERT INTO workflows (name, trigger, to_stage_id, actions, created) "
                 "SELECT 'nudge', 'stage', id, '[\"followup:+2d:Call\"]', '2026-01-01' FROM stages WHERE name = 'Proposal'")
    conn.execute("INSERT INTO settings (key, value) VALUES ('currency', 'EUR') ON CONFLICT (key) DO UPDATE SET value = 'EUR'")
    for login, role in MEMBERS.items():
        conn.execute("INSERT INTO users (name, role, key_user, created) VALUES (%s, %s, %s, '2026-01-01')",
                     [login, "manager" if role == "manager" else "recruiter", int(role == "keyuser")])
    for owner, count in DEALS.items():
        for n in range(count):
            conn.execute(
                """INSERT INTO opportunities (title, company, business_type_id, stage_id, source_id, value_cents,
                                              owner_id, created)
                   SELECT %s, 'Acme', b.id, s.id, src.id, 100000, u.id, '2026-01-01'
                     FROM business_types b, stages s, sources src, users u WHERE s.name = 'Lead' AND u.name = %s""",
                [f"{owner} {n}", owner])
    conn.execute("""INSERT INTO followups (opportunity_id, due, text, user_id, created)
                    SELECT id, '2026-02-01', 'Call', owner_id, '2026-01-01' FROM opportunities""")
    conn.execute("""INSERT INTO goals (owner_id, period_start, period_end, amount_cents, set_by, set_at)
                    SELECT id, '2026-01-01', '2026-03-31', 500000, 'leak_owner', '2026-01-01' FROM users WHERE name = %s""",
                 [RITA])
    conn.execute("""INSERT INTO undo_log (user_id, actor, opportunity_id, at, action, before_values, history_from,
                                          history_to, followup_from, followup_to)
                    SELECT o.owner_id, 'x', o.id, '2026-01-01', 'edit', '{}', 0, 0, 0, 0 FROM opportunities o
                     WHERE o.title = %s""", [f"{RITA} 0"])


class Secured:
    def __init__(self, cluster, database: str):
        self.cluster, self.database = cluster, database

    def connect(self, login: str):
        import psycopg

        return psycopg.connect(self.cluster.url_for(self.database, login), autocommit=True)

    def admin(self):
        return self.connect("postgres")

    def snapshot(self) -> dict[str, str]:
        """Every table's rows, as the superuser sees them (row security does not bind a superuser)."""
        from salesselect_cli.sql.pg_security import ALL_TABLES

        with self.admin() as conn:
            return {table: conn.execute(f"SELECT md5(COALESCE(string_agg(t::text, ',' ORDER BY t::text), '')) "
                                        f"FROM {table} t").fetchone()[0] for table in ALL_TABLES}

    def count(self, sql: str, params=()) -> int:
        with self.admin() as conn:
            return conn.execute(sql, list(params)).fetchone()[0]


def attempt(conn, sql: str, params=()) -> int | str:
    """The rows a statement touched (committed), or 'denied' when PostgreSQL refused it."""
    import psycopg

    try:
        cursor = conn.execute(sql, list(params))
        return len(cursor.fetchall()) if cursor.description else cursor.rowcount
    except psycopg.errors.InsufficientPrivilege:
        return "denied"


def attempt_rolled_back(conn, sql: str, params=()) -> int | str:
    """As attempt, inside a transaction that is rolled back: counts what was allowed, keeps the data."""
    import psycopg

    result: int | str = "denied"
    try:
        with conn.transaction():
            cursor = conn.execute(sql, list(params))
            result = len(cursor.fetchall()) if cursor.description else cursor.rowcount
            raise psycopg.Rollback()
    except psycopg.errors.InsufficientPrivilege:
        return "denied"
    return result


# Every table of the schema, with the column the matrix below rewrites to itself and what each member may do:
# (rows read, rows updated, rows deleted) for the recruiter RITA, the manager MAX, the key user KIM. ALL: every
# row the table has; 'denied': PostgreSQL refused it. A new table fails test_every_table_has_a_rule until it is here.
ALL = "all"
TABLES = {
    "opportunities": ("title", {RITA: (ALL, DEALS[RITA], "denied"), MAX: (ALL, ALL, "denied"), KIM: (ALL, ALL, 0)}),
    "followups": ("text", {RITA: (ALL, DEALS[RITA], DEALS[RITA]), MAX: (ALL, ALL, ALL), KIM: (ALL, ALL, ALL)}),
    "undo_log": ("action", {RITA: (ALL, 1, "denied"), MAX: (ALL, 0, "denied"), KIM: (ALL, 1, "denied")}),
    "goals": ("amount_cents", {RITA: (ALL, "denied", "denied"), MAX: (ALL, ALL, ALL), KIM: (ALL, ALL, ALL)}),
    "history": ("actor", dict.fromkeys((RITA, MAX, KIM), (ALL, "denied", "denied"))),
    "setup_log": ("what", dict.fromkeys((RITA, MAX, KIM), (ALL, "denied", "denied"))),
    "stage_visits": ("stage_id", {RITA: (ALL, DEALS[RITA], DEALS[RITA]), MAX: (ALL, ALL, ALL), KIM: (ALL, ALL, ALL)}),
    "funnel_counts": ("n", dict.fromkeys((RITA, MAX, KIM), (ALL, "denied", "denied"))),
    "salesselect_migrations": ("name", dict.fromkeys((RITA, MAX, KIM), (ALL, "denied", "denied"))),
    "settings": ("value", {RITA: (ALL, 0, 0), MAX: (ALL, 0, 0), KIM: (ALL, ALL, ALL)}),
    # the setup lists and users: key users only (deleting a row still in use is the foreign keys' to refuse)
    "business_types": ("name", {RITA: (ALL, "denied", "denied"), MAX: (ALL, "denied", "denied"),
                                KIM: (ALL, ALL, "in use")}),
    "stages": ("name", {RITA: (ALL, "denied", "denied"), MAX: (ALL, "denied", "denied"), KIM: (ALL, ALL, "in use")}),
    "stage_business_types": ("stage_id", {RITA: (ALL, "denied", "denied"), MAX: (ALL, "denied", "denied"),
                                          KIM: (ALL, ALL, ALL)}),
    "sources": ("name", {RITA: (ALL, "denied", "denied"), MAX: (ALL, "denied", "denied"), KIM: (ALL, ALL, "in use")}),
    "reasons": ("text", {RITA: (ALL, "denied", "denied"), MAX: (ALL, "denied", "denied"), KIM: (ALL, ALL, ALL)}),
    "workflows": ("name", {RITA: (ALL, "denied", "denied"), MAX: (ALL, "denied", "denied"), KIM: (ALL, ALL, ALL)}),
    "users": ("name", {RITA: (ALL, "denied", "denied"), MAX: (ALL, "denied", "denied"), KIM: (ALL, ALL, "in use")}),
}


def test_every_table_has_a_rule(secured):
    from salesselect_cli.sql.pg_security import ALL_TABLES

    with secured.admin() as conn:
        tables = {r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        secured_tables = {r[0]: (r[1], r[2]) for r in conn.execute(
            "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
            "WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'")}
    assert tables == set(TABLES)  # the schema's tables, every one in this test's matrix
    assert tables == set(ALL_TABLES)
    assert all(enabled for enabled, _ in secured_tables.values())
    assert [t for t, (_, forced) in secured_tables.items() if not forced] == ["users"]


def attempt_counted(conn, sql: str, params=()) -> int | str:
    """As attempt_rolled_back; a foreign key's refusal (a row still in use) is 'in use'."""
    import psycopg

    try:
        return attempt_rolled_back(conn, sql, params)
    except psycopg.errors.ForeignKeyViolation:
        return "in use"


def test_every_member_on_every_table(secured):
    """The matrix: each member reads, updates, deletes and truncates every table (rolled back), rows counted;
    the data is identical afterwards."""
    with secured.connect(OWNER) as owner:  # some history and setup log to read
        owner.execute("SELECT salesselect_note(id, 'seen') FROM opportunities")
        owner.execute("UPDATE settings SET value = 'USD' WHERE key = 'currency'")
    before = secured.snapshot()
    rows = {table: secured.count(f"SELECT count(*) FROM {table}") for table in TABLES}
    assert all(rows.values()), rows  # every table has rows, or the counts below prove nothing
    seen, expected = {}, {}
    for login in (RITA, MAX, KIM):
        with secured.connect(login) as conn:
            for table, (column, may) in TABLES.items():
                expected[login, table] = tuple(rows[table] if n == ALL else n for n in may[login]) + ("denied",)
                seen[login, table] = (attempt(conn, f"SELECT * FROM {table}"),
                                      attempt_counted(conn, f"UPDATE {table} SET {column} = {column}"),
                                      attempt_counted(conn, f"DELETE FROM {table}"),
                                      attempt_counted(conn, f"TRUNCATE {table} CASCADE"))
    assert {k: v for k, v in seen.items() if v != expected[k]} == {}
    assert secured.snapshot() == before


def test_a_login_that_is_no_user_reads_and_changes_nothing(secured):
    from salesselect_cli.sql.pg_security import ALL_TABLES

    before = secured.snapshot()
    with secured.connect(NOBODY) as conn:
        for table in ALL_TABLES:
            assert attempt(conn, f"SELECT * FROM {table}") == "denied", table
            assert attempt(conn, f"DELETE FROM {table}") == "denied", table
            assert attempt(conn, f"TRUNCATE {table} CASCADE") == "denied", table
        assert attempt(conn, "UPDATE opportunities SET title = 'x'") == "denied"
        assert attempt(conn, "UPDATE users SET key_user = 1") == "denied"
        assert attempt(conn, "INSERT INTO history (opportunity_id, at, actor, field) VALUES (1, 'x', 'x', 'note')") == "denied"
        assert attempt(conn, "SELECT salesselect_role()") == "denied"
    assert secured.snapshot() == before


def test_a_former_member_granted_but_no_user_reads_nothing(secured):
    """Group rights without a users row: every policy hides every row."""
    from salesselect_cli.sql.pg_security import ALL_TABLES, grant_member

    with secured.connect(OWNER) as owner:
        assert grant_member(owner, NOBODY, "recruiter").done
    with secured.connect(NOBODY) as conn:
        # the migrations record's names only, so the CLI can tell the login it is no user (test_cli_...)
        assert {table: attempt(conn, f"SELECT * FROM {table}") for table in ALL_TABLES} == {
            **dict.fromkeys(ALL_TABLES, 0), "salesselect_migrations": secured.count("SELECT count(*) FROM salesselect_migrations")}
        assert attempt(conn, "UPDATE opportunities SET title = 'x'") == 0
        assert attempt(conn, "INSERT INTO settings (key, value) VALUES ('bulk_load', '1')") == "denied"


def test_a_recruiter_reads_all_and_changes_only_her_own(secured):
    before = secured.snapshot()
    with secured.connect(RITA) as conn:
        assert attempt(conn, "SELECT * FROM opportunities") == TOTAL
        assert attempt(conn, "SELECT * FROM history") == secured.count("SELECT count(*) FROM history")
        assert attempt(conn, "SELECT * FROM users") == len(MEMBERS) + 1  # and the owner, the first key user
        # nothing that isn't hers
        assert attempt(conn, "UPDATE opportunities SET title = 'mine now' WHERE owner_id <> salesselect_login_user()") == 0
        assert attempt(conn, "UPDATE followups SET text = 'x' WHERE user_id <> salesselect_login_user()") == 0
        assert attempt(conn, "DELETE FROM followups WHERE user_id <> salesselect_login_user()") == 0
        assert attempt(conn, "INSERT INTO opportunities (title, company, business_type_id, stage_id, source_id, "
                             "owner_id, created) SELECT 'x', 'y', 1, 1, 1, id, '2026-01-01' FROM users "
                             "WHERE name = %s", [ROB]) == "denied"
        # no hard delete, no truncate, anywhere
        assert attempt(conn, "DELETE FROM opportunities") == "denied"
        for table in ("opportunities", "followups", "history", "setup_log", "users", "settings", "workflows",
                      "stages", "stage_visits", "funnel_counts", "salesselect_migrations"):
            assert attempt(conn, f"TRUNCATE {table} CASCADE") == "denied", table
        # the audit trail is read-only
        assert attempt(conn, "UPDATE history SET actor = 'leak_rob'") == "denied"
        assert attempt(conn, "DELETE FROM history") == "denied"
        assert attempt(conn, "DELETE FROM setup_log") == "denied"
        assert attempt(conn, "INSERT INTO history (opportunity_id, at, actor, field, to_value) "
                             "SELECT min(id), '2026-01-01', 'leak_rob', 'note', 'forged' FROM opportunities") == "denied"
        assert attempt(conn, "INSERT INTO setup_log (at, actor, what) VALUES ('x', 'leak_rob', 'forged')") == "denied"
        # users, setup, workflows, settings: key users only
        assert attempt(conn, "UPDATE users SET key_user = 1, role = 'manager'") == "denied"
        assert attempt(conn, "INSERT INTO workflows (name, trigger, actions, created) "
                             "VALUES ('evil', 'stage', '[\"run:curl x\"]', 'x')") == "denied"
        assert attempt(conn, "UPDATE workflows SET actions = '[\"run:curl x\"]'") == "denied"
        assert attempt(conn, "INSERT INTO settings (key, value) VALUES ('red_days', 'abc')") == "denied"
        assert attempt(conn, "UPDATE settings SET value = 'XXX'") == 0
        assert attempt(conn, "UPDATE stages SET name = 'x'") == "denied"
        assert attempt(conn, "DELETE FROM sources") == "denied"
        assert attempt(conn, "INSERT INTO funnel_counts VALUES ('2026-01-01', 1, 1, 'won', 0, 1, 1)") == "denied"
        assert attempt(conn, "UPDATE salesselect_migrations SET name = 'x'") == "denied"
        assert attempt(conn, "SET ROLE " + _group(secured, "keyuser")) == "denied"
    assert secured.snapshot() == before
    with secured.connect(RITA) as conn:  # what she may do, counted and rolled back
        assert attempt_rolled_back(conn, "UPDATE opportunities SET title = title || '!'") == DEALS[RITA]
        assert attempt_rolled_back(conn, "UPDATE followups SET text = 'x'") == DEALS[RITA]
        assert attempt_rolled_back(conn, "SELECT salesselect_note(min(id), 'hi') FROM opportunities "
                                         "WHERE owner_id = salesselect_login_user()") == 1
        assert attempt(conn, "SELECT salesselect_note(min(id), 'forged') FROM opportunities "
                             "WHERE owner_id <> salesselect_login_user()") == "denied"
        assert attempt_rolled_back(conn, "INSERT INTO settings (key, value) VALUES ('bulk_load', '1')") == 1
        # ...but only for her own transaction: committed, it would stop everyone's stage visits
        assert attempt(conn, "INSERT INTO settings (key, value) VALUES ('bulk_load', '1')") == "denied"
        with conn.transaction():  # set and taken back, as an import does: the COMMIT goes through
            assert attempt(conn, "INSERT INTO settings (key, value) VALUES ('bulk_load', '1')") == 1
            assert attempt(conn, "DELETE FROM settings WHERE key = 'bulk_load'") == 1
    assert secured.snapshot() == before


def _group(secured, role: str) -> str:
    from salesselect_cli.sql.pg_security import group_role

    return '"' + group_role(secured.database, role) + '"'


def test_a_manager_changes_any_deal_and_history_names_her(secured):
    before = secured.count("SELECT count(*) FROM history")
    with secured.connect(MAX) as conn:
        conn.execute("SET salesselect.now = '2026-03-01 10:00:00'")
        assert attempt(conn, "UPDATE opportunities SET value_cents = 250050, stage_id = (SELECT id FROM stages "
                             "WHERE name = 'Proposal') WHERE title = %s", [f"{RITA} 0"]) == 1
        assert attempt(conn, "UPDATE opportunities SET title = title || '!'") == TOTAL
        assert attempt(conn, "DELETE FROM opportunities") == "denied"
        assert attempt(conn, "TRUNCATE history") == "denied"
        assert attempt(conn, "UPDATE users SET role = 'recruiter'") == "denied"
        assert attempt(conn, "UPDATE history SET actor = 'x'") == "denied"
    with secured.admin() as conn:
        rows = conn.execute(
            """SELECT at, actor, field, from_value, to_value FROM history h JOIN opportunities o ON o.id = h.opportunity_id
                WHERE o.title = %s ORDER BY h.id""", [f"{RITA} 0!"]).fetchall()
    assert rows == [
        ("2026-03-01 10:00:00", MAX, "stage", "Lead", "Proposal"),
        ("2026-03-01 10:00:00", MAX, "value", "1000.00", "2500.50"),
        ("2026-03-01 10:00:00", MAX, "title", f"{RITA} 0", f"{RITA} 0!"),
    ]
    assert secured.count("SELECT count(*) FROM history") == before + 2 + TOTAL
    assert secured.count("SELECT count(*) FROM stage_visits WHERE stage_id = (SELECT id FROM stages "
                         "WHERE name = 'Proposal')") == 1  # the derived tables still follow (their triggers run as owner)


def test_only_a_key_user_carries_acting_for(secured):
    with secured.connect(RITA) as conn:
        conn.execute("SET salesselect.act_for = %s" % "'leak_rob'")
        assert conn.execute("SELECT salesselect_actor()").fetchone()[0] == RITA
    with secured.connect(KIM) as conn:
        conn.execute("SET salesselect.act_for = 'leak_rob'")
        assert conn.execute("SELECT salesselect_actor()").fetchone()[0] == f"{KIM} for {ROB}"
        conn.execute("UPDATE opportunities SET expected_close = '2026-06-30' WHERE title = %s", [f"{ROB} 0"])
    with secured.admin() as conn:
        assert conn.execute("SELECT actor, field, to_value FROM history ORDER BY id DESC LIMIT 1").fetchone() == (
            f"{KIM} for {ROB}", "expected_close", "2026-06-30")


def test_a_key_user_purges_only_from_the_trash_and_truncates_nothing(secured):
    with secured.connect(KIM) as conn:
        assert attempt(conn, "DELETE FROM opportunities") == 0  # none is in the trash
        assert attempt(conn, "UPDATE opportunities SET deleted = '2026-01-02', deleted_by = 'leak_kim' "
                             "WHERE title = %s", [f"{ROB} 1"]) == 1
        assert attempt(conn, "DELETE FROM opportunities") == 1
        for table in ("opportunities", "history", "setup_log", "users", "settings"):
            assert attempt(conn, f"TRUNCATE {table} CASCADE") == "denied", table
        assert attempt(conn, "UPDATE history SET actor = 'x'") == "denied"
        assert attempt(conn, "DELETE FROM setup_log") == "denied"
        assert attempt(conn, "UPDATE settings SET value = 'USD' WHERE key = 'currency'") == 1
        assert attempt(conn, "UPDATE workflows SET enabled = 0") == 1
        assert attempt(conn, "INSERT INTO settings (key, value) VALUES ('bulk_load', '1')") == "denied"  # not even hers
    assert secured.count("SELECT count(*) FROM opportunities") == TOTAL - 1
    assert secured.count("SELECT count(*) FROM settings WHERE key = 'bulk_load'") == 0
    assert secured.count("SELECT count(*) FROM followups") == TOTAL - 1
    with secured.admin() as conn:
        log = conn.execute("SELECT actor, what, old_value, new_value FROM setup_log ORDER BY id").fetchall()
    assert log == [
        (KIM, "opportunity deleted", f"{ROB} 1 (Acme)", "trash"),
        (KIM, "opportunity purged", f"{ROB} 1 (Acme)", None),
        (KIM, "currency", "EUR", "USD"),
        (KIM, "workflow nudge enabled", "yes", "no"),
    ]


def test_changing_a_members_role_takes_effect_at_once(secured):
    from salesselect_cli.sql.pg_security import grant_member, revoke_member

    with secured.connect(RITA) as rita:
        assert attempt_rolled_back(rita, "UPDATE opportunities SET title = title") == DEALS[RITA]
        with secured.connect(KIM) as kim:
            assert attempt(kim, "UPDATE users SET role = 'manager' WHERE name = %s", [RITA]) == 1
        assert attempt_rolled_back(rita, "UPDATE opportunities SET title = title") == TOTAL  # same connection
        with secured.connect(KIM) as kim:
            assert attempt(kim, "UPDATE users SET key_user = 1 WHERE name = %s", [RITA]) == 1
        with secured.connect(OWNER) as owner:
            assert grant_member(owner, RITA, "manager", key_user=True).done
        assert attempt_rolled_back(rita, "UPDATE settings SET value = 'x'") == secured.count("SELECT count(*) FROM settings")
        with secured.connect(OWNER) as owner:
            revoke_member(owner, RITA)
        assert attempt(rita, "SELECT * FROM opportunities") == "denied"


def test_grant_member_makes_the_login_or_says_the_one_line(secured):
    from salesselect_cli.sql.pg_security import grant_member

    fresh = f"leak_new_{os.getpid()}"
    try:
        with secured.connect(OWNER) as owner:
            assert grant_member(owner, fresh, "recruiter").done
        with secured.connect(RITA) as rita:  # no CREATEROLE: the line for an administrator
            grant = grant_member(rita, "leak_never", "recruiter")
        assert not grant.done
        assert grant.sql == (f'CREATE ROLE "leak_never" LOGIN PASSWORD \'choose-one\' IN ROLE '
                             f'{_group(secured, "recruiter")};')
    finally:
        with secured.admin() as admin:
            admin.execute(f'DROP ROLE IF EXISTS "{fresh}"')


def test_install_is_idempotent(secured):
    from salesselect_cli.sql.pg_security import install

    before = secured.snapshot()
    with secured.connect(OWNER) as owner:
        install(owner)
    assert secured.snapshot() == before
    with secured.connect(RITA) as conn:
        assert attempt(conn, "DELETE FROM opportunities") == "denied"


def test_the_migration_secures_a_database_init_makes(cli, monkeypatch):
    """Registered in the runner (m050), `init` by an ordinary owner login secures the
    database; the owner is its first key user and a login that is no user reads nothing."""
    import psycopg

    from tests.conftest import pg_cluster

    cluster = pg_cluster()
    _login(cluster.admin, OWNER, createrole=True)
    _login(cluster.admin, NOBODY)
    with _owned_database(cluster, OWNER) as database:
        url = cluster.url_for(database, OWNER)
        run = cli("--db", url, "init", env={"SALESSELECT_USER": OWNER})
        assert run.exit_code == 0, run.stderr
        with psycopg.connect(url, autocommit=True) as owner:
            assert owner.execute("SELECT name FROM salesselect_migrations ORDER BY id DESC LIMIT 1").fetchone() == (
                "m055_bulk_load_lasts_one_transaction",)
            assert owner.execute("SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace "
                                 "AND relkind = 'r' AND NOT relrowsecurity").fetchone() == (0,)
            assert owner.execute("SELECT salesselect_role()").fetchone() == ("keyuser",)
        with psycopg.connect(cluster.url_for(database, NOBODY), autocommit=True) as nobody:
            assert attempt(nobody, "SELECT * FROM salesselect_migrations") == "denied"


def test_followup_changes_write_the_rows_the_client_writes(secured):
    with secured.connect(RITA) as conn:
        conn.execute("SET salesselect.now = '2026-03-02 09:00:00'")
        deal = conn.execute("SELECT min(id) FROM opportunities WHERE owner_id = salesselect_login_user()").fetchone()[0]
        new = conn.execute("INSERT INTO followups (opportunity_id, due, text, user_id, created) "
                           "VALUES (%s, '2026-03-05', 'Send CV', salesselect_login_user(), '2026-03-02') RETURNING id",
                           [deal]).fetchone()[0]
        conn.execute("UPDATE followups SET due = '2026-03-06', text = 'Send CVs' WHERE id = %s", [new])
        conn.execute("UPDATE followups SET status = 'done', done = '2026-03-02' WHERE id = %s", [new])
        conn.execute("UPDATE followups SET status = 'cancelled' WHERE opportunity_id = %s AND status = 'open'", [deal])
        conn.execute("DELETE FROM followups WHERE id = %s", [new])
        conn.execute("SELECT salesselect_note(%s, '  called them  ')", [deal])
        old = conn.execute("SELECT min(id) FROM followups WHERE opportunity_id = %s", [deal]).fetchone()[0]
    with secured.admin() as conn:
        rows = conn.execute("SELECT actor, field, from_value, to_value, from_id, to_id FROM history "
                            "WHERE opportunity_id = %s ORDER BY id", [deal]).fetchall()
    assert rows == [
        (RITA, "followup", None, "2026-03-05 Send CV", None, None),
        (RITA, "followup edited", "2026-03-05 Send CV", "2026-03-06 Send CVs", new, new),
        (RITA, "followup done", None, "2026-03-06 Send CVs", None, None),
        (RITA, "followup cancelled", None, "2026-02-01 Call", old, None),
        (RITA, "followup removed", "2026-03-06 Send CVs", None, new, None),
        (RITA, "note", None, "called them", None, None),
    ]


def test_closing_a_deal_writes_stage_then_status_with_the_reason(secured):
    with secured.connect(ROB) as conn:
        conn.execute("SET salesselect.now = '2026-03-03 12:00:00'")
        conn.execute("""UPDATE opportunities SET status = 'lost', reason_id = (SELECT id FROM reasons),
                               closed = '2026-03-03', closed_from_stage_id = stage_id WHERE title = %s""", [f"{ROB} 0"])
    with secured.admin() as conn:
        rows = conn.execute("""SELECT at, actor, field, from_value, to_value, from_id, to_id FROM history
                                WHERE opportunity_id = (SELECT id FROM opportunities WHERE title = %s) ORDER BY id""",
                            [f"{ROB} 0"]).fetchall()
        lead, price = conn.execute("SELECT (SELECT id FROM stages WHERE name = 'Lead'), (SELECT id FROM reasons)").fetchone()
    assert rows == [("2026-03-03 12:00:00", ROB, "status", "open", "lost (price)", lead, price)]


def test_a_leaky_function_sees_no_row_the_policies_hide(secured):
    """rowsecurity.sql's f_leak: a cheap function that prints every value it is shown must run after the
    policies, so a member without a users row learns nothing through it."""
    from salesselect_cli.sql.pg_security import grant_member

    with secured.connect(OWNER) as owner:
        assert grant_member(owner, NOBODY, "recruiter").done
    seen: list[str] = []
    with secured.connect(NOBODY) as conn:
        conn.add_notice_handler(lambda notice: seen.append(notice.message_primary))
        conn.execute("CREATE FUNCTION pg_temp.f_leak(text) RETURNS bool COST 0.0000001 LANGUAGE plpgsql "
                     "AS 'BEGIN RAISE NOTICE ''f_leak => %'', $1; RETURN true; END'")
        for table, column in (("opportunities", "title"), ("history", "actor"), ("users", "name"),
                              ("settings", "value"), ("workflows", "actions")):
            assert attempt(conn, f"SELECT * FROM {table} WHERE pg_temp.f_leak({column}::text)") == 0, table
    assert seen == []
    with secured.connect(RITA) as conn:  # the same function, for a member who may read: it does see rows
        conn.add_notice_handler(lambda notice: seen.append(notice.message_primary))
        conn.execute("CREATE FUNCTION pg_temp.f_leak(text) RETURNS bool COST 0.0000001 LANGUAGE plpgsql "
                     "AS 'BEGIN RAISE NOTICE ''f_leak => %'', $1; RETURN true; END'")
        assert attempt(conn, "SELECT * FROM users WHERE pg_temp.f_leak(name)") == len(MEMBERS) + 1
    assert len(seen) == len(MEMBERS) + 1


def test_the_triggers_write_the_rows_the_client_writes(secured, ok):
    """On PostgreSQL the client writes no audit rows: every history and setup-log row the CLI writes on SQLite
    the triggers write once, from the row change (same deal, actor, field, values and ids)."""
    from collections import Counter

    url = secured.cluster.url_for(secured.database, OWNER)
    env = {"SALESSELECT_USER": OWNER}

    def run(*args):
        return ok("--db", url, *args, env=env).stdout.strip()

    deal = run("opp", "add", "Parity", "--company", "Acme", "--type", "Staffing", "--source", "HubSpot",
               "--value", "1200.50", "--note", "first call", "--owner", RITA)
    run("opp", "edit", deal, "--value", "1300", "--close", "2026-09-30", "--owner", MAX, "--title", "Parity 2")
    # workflows' own changes say 'workflow:NAME' in the client's rows; the triggers cannot know (see the report)
    run("opp", "move", deal, "Proposal", "--no-workflows")
    follow = run("followup", "add", deal, "2026-04-01", "Send CV")
    run("followup", "edit", follow, "--text", "Send CVs")
    run("followup", "done", follow)
    second = run("followup", "add", deal, "2026-04-02", "Call back")
    run("followup", "remove", second)
    run("followup", "add", deal, "2026-04-03", "Ask again")
    run("opp", "lose", deal, "--reason", "price", "--no-workflows")  # cancels the open follow-up
    run("opp", "reopen", deal, "--no-workflows")
    run("opp", "delete", deal, "--yes")
    run("opp", "restore", deal)
    run("config", "set-currency", "USD")
    run("user", "add", "leak_new")
    run("user", "set-role", "leak_new", "manager")
    run("user", "set-key-user", "leak_new")
    run("config", "module", "enable", "--user", "leak_new")
    run("config", "module", "inherit", "--user", "leak_new")
    run("config", "module", "enable")
    run("config", "add-business-type", "Agencies", "--color", "red")
    run("config", "edit-business-type", "Agencies", "--name", "Bureaus", "--color", "green")
    run("config", "edit-stage", "Proposal", "--name", "Offer")
    run("config", "link-stage", "Offer", "Bureaus")
    run("config", "unlink-stage", "Offer", "Bureaus")
    run("opp", "move", deal, "Lead", "--no-workflows")
    run("config", "edit-stage", "Offer", "--auto", "won")
    run("config", "edit-stage", "Offer", "--auto", "none")
    run("config", "archive-stage", "Offer")
    run("config", "unarchive-stage", "Offer")
    run("config", "add-source", "LinkedIn")
    run("config", "rename-source", "LinkedIn", "Linked In")
    run("config", "add-reason", "slow", "--status", "lost")
    run("config", "edit-reason", "slow", "--text", "too slow")
    run("config", "remove-reason", "too slow")
    run("workflow", "disable", "nudge")
    run("workflow", "timeout", "20")
    run("workflow", "timeout", "default")
    run("config", "set-language", "nl")  # last: from here on the CLI speaks Dutch
    with secured.admin() as conn:
        history = Counter(conn.execute(
            "SELECT actor, field, from_value, to_value, from_id, to_id FROM history WHERE opportunity_id = %s",
            [int(deal)]).fetchall())
        log = Counter(conn.execute("SELECT actor, what, old_value, new_value, opportunity_id FROM setup_log").fetchall())
    assert {row: n for row, n in history.items() if n != 1} == {}  # nothing written twice
    assert {row[1] for row in history} == {"created", "note", "value", "expected_close", "owner", "title", "stage",
                                           "followup", "followup edited", "followup done", "followup removed",
                                           "followup cancelled", "status"}
    assert {row: n for row, n in log.items() if n != 1} == {}
    assert history[(OWNER, "status", "open", "lost (price)", _stage_id(secured, "Offer"), _reason_id(secured))] == 1
    assert history[(OWNER, "followup cancelled", None, "2026-04-03 Ask again", int(follow) + 2, None)] == 1
    assert log[(OWNER, "opportunity deleted", "Parity 2 (Acme)", "trash", int(deal))] == 1
    for line in [("business type Bureaus colour", "red", "green"), ("stage Offer archived", "no", "yes"),
                 ("stage Offer auto-select", "won", "none"), ("reason changed", "slow (lost)", "too slow (lost)"),
                 ("user leak_new key user", "no", "yes"), ("workflow time limit", "20", "default"),
                 ("workflow nudge enabled", "yes", "no"), ("language", None, "nl")]:
        assert log[(OWNER, *line, None)] == 1, line


def _stage_id(secured, name: str) -> int:
    return secured.count("SELECT id FROM stages WHERE name = %s", [name])


def _reason_id(secured) -> int:
    return secured.count("SELECT id FROM reasons")


def test_a_later_migrations_table_is_readable_by_members_only(secured):
    with secured.connect(OWNER) as owner:
        owner.execute("CREATE TABLE later_table (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, x text)")
        owner.execute("INSERT INTO later_table (x) VALUES ('a'), ('b')")
    with secured.connect(RITA) as conn:
        assert attempt(conn, "SELECT * FROM later_table") == 2
        assert attempt(conn, "INSERT INTO later_table (x) VALUES ('c')") == "denied"
    with secured.connect(NOBODY) as conn:
        assert attempt(conn, "SELECT * FROM later_table") == "denied"


def test_temporary_tables_cannot_stand_in_for_the_real_ones(secured):
    """A definer function searching pg_temp first would write the audit into a member's own temporary table,
    or take her pg_class for the catalogue's: their search_path puts pg_temp last."""
    before = secured.count("SELECT count(*) FROM history")
    with secured.connect(RITA) as conn:
        conn.execute("CREATE TEMP TABLE history (LIKE public.history)")
        conn.execute("CREATE TEMP TABLE setup_log (LIKE public.setup_log)")
        conn.execute("CREATE TEMP TABLE pg_class (oid oid, relowner oid)")
        conn.execute("INSERT INTO pg_temp.pg_class SELECT 'public.users'::regclass, oid FROM pg_roles "
                     "WHERE rolname = current_user")
        assert attempt(conn, "UPDATE opportunities SET title = title || '?' WHERE owner_id = salesselect_login_user()") == DEALS[RITA]
        assert conn.execute("SELECT count(*) FROM pg_temp.history").fetchone() == (0,)
        assert attempt(conn, "INSERT INTO public.history (opportunity_id, at, actor, field) "
                             "SELECT min(id), 'x', 'leak_rob', 'note' FROM opportunities") == "denied"
        assert conn.execute("SELECT salesselect_by_owner()").fetchone() == (False,)
    assert secured.count("SELECT count(*) FROM history") == before + DEALS[RITA]


def test_an_owner_who_may_not_create_roles_gets_the_lines_an_administrator_runs(cli):
    import psycopg

    from salesselect_cli.sql import pg_security
    from tests.conftest import pg_cluster

    cluster = pg_cluster()
    plain = "leak_plain_owner"
    _login(cluster.admin, plain)
    _login(cluster.admin, RITA)
    with _owned_database(cluster, plain) as database:
        url = cluster.url_for(database, plain)
        refused = cli("--db", url, "init", env={"SALESSELECT_USER": plain})
        groups = [pg_security.group_role(database, role) for role in pg_security.ROLES]
        needed = " ".join(f'CREATE ROLE "{group}" NOLOGIN; GRANT "{group}" TO "{plain}" WITH ADMIN OPTION;'
                          for group in groups)
        assert refused.exit_code == 3 and refused.stderr.count("\n") == 1 and needed in refused.stderr
        with psycopg.connect(url, autocommit=True) as owner:
            assert owner.execute("SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace").fetchone() == (0,)
            with pytest.raises(pg_security.NeedsAdministrator) as again:
                pg_security.install(owner)
            assert again.value.sql == needed
        cluster.admin.execute(needed)  # what the administrator runs, once
        assert cli("--db", url, "init", env={"SALESSELECT_USER": plain}).exit_code == 0
        with psycopg.connect(url, autocommit=True) as owner:
            assert owner.execute("SELECT relrowsecurity FROM pg_class WHERE oid = 'opportunities'::regclass").fetchone() == (True,)
            owner.execute("INSERT INTO users (name, created) VALUES (%s, '2026-01-01')", [RITA])
            assert pg_security.grant_member(owner, RITA, "recruiter").done  # ADMIN OPTION is enough to grant
            assert not pg_security.grant_member(owner, "leak_unmade", "recruiter").done
        with psycopg.connect(cluster.url_for(database, RITA), autocommit=True) as rita:
            assert attempt(rita, "SELECT * FROM users") == 2
            assert attempt(rita, "DELETE FROM opportunities") == "denied"


def test_user_add_set_role_and_remove_give_and_take_the_logins_rights(secured, cli):
    """The CLI's `user` commands are all a key user needs: no GRANT by hand. The owner's login may create roles,
    so `user add` makes the login; a key user's login that may not says the one line an administrator runs."""
    fresh = f"leak_fresh_{os.getpid()}"
    owner_url = secured.cluster.url_for(secured.database, OWNER)

    def as_owner(*args):
        run = cli("--db", owner_url, *args, env={"SALESSELECT_USER": OWNER})
        assert run.exit_code == 0, run.stderr
        return run

    try:
        assert as_owner("user", "add", fresh).stderr.count("\n") == 1
        with secured.connect(fresh) as conn:
            assert attempt(conn, "SELECT * FROM opportunities") == TOTAL
            assert attempt_rolled_back(conn, "UPDATE opportunities SET title = title") == 0  # owns none
            as_owner("user", "set-role", fresh, "manager")
            assert attempt_rolled_back(conn, "UPDATE opportunities SET title = title") == TOTAL  # at once
            assert attempt_rolled_back(conn, "UPDATE stages SET name = name") == "denied"
            as_owner("user", "set-key-user", fresh)
            assert attempt_rolled_back(conn, "UPDATE stages SET name = name") == 2
            as_owner("user", "set-key-user", fresh, "--off")
            assert attempt_rolled_back(conn, "UPDATE stages SET name = name") == "denied"
            as_owner("user", "remove", fresh)
            assert attempt(conn, "SELECT * FROM opportunities") == "denied"
        refused = cli("--db", secured.cluster.url_for(secured.database, fresh), "board", env={"SALESSELECT_USER": fresh})
        assert refused.exit_code == 3 and refused.stderr.count("\n") == 1
        assert f"'salesselect user add {fresh}'" in refused.stderr and "salesselect_migrations" not in refused.stderr
        # a key user whose login may not create roles: the user is added, and the one line for an administrator
        kim = cli("--db", secured.cluster.url_for(secured.database, KIM), "user", "add", "leak_unmade", "--role",
                  "manager", env={"SALESSELECT_USER": KIM})
        assert kim.exit_code == 0, kim.stderr
        assert kim.stderr.splitlines()[1].endswith(
            f'CREATE ROLE "leak_unmade" LOGIN PASSWORD \'choose-one\' IN ROLE {_group(secured, "manager")};')
        assert secured.count("SELECT count(*) FROM pg_roles WHERE rolname = 'leak_unmade'") == 0
    finally:
        with secured.admin() as admin:
            admin.execute(f'DROP ROLE IF EXISTS "{fresh}"')


def test_a_login_that_is_no_user_is_told_so_in_one_line(secured, cli):
    for login in (NOBODY, ROB):
        if login == ROB:  # a member until a key user removed him: his group is gone with his users row
            with secured.connect(KIM) as kim:
                kim.execute("UPDATE opportunities SET owner_id = (SELECT id FROM users WHERE name = %s) "
                            "WHERE owner_id = (SELECT id FROM users WHERE name = %s)", [KIM, ROB])
                kim.execute("UPDATE followups SET user_id = (SELECT id FROM users WHERE name = %s) "
                            "WHERE user_id = (SELECT id FROM users WHERE name = %s)", [KIM, ROB])
                kim.execute("DELETE FROM users WHERE name = %s", [ROB])
        # board, opp list and report winloss send their reads with the opening one: refused, they are dropped unread
        for args in (("board",), ("opp", "move", "1", "Proposal"), ("opp", "list"), ("report", "winloss")):
            run = cli("--db", secured.cluster.url_for(secured.database, login), *args, env={"SALESSELECT_USER": login})
            assert run.exit_code == 3, (login, args, run.stderr)
            assert run.stderr == (f"Error: your database login '{login}' is not a user of this database; a key user "
                                  f"can add it with 'salesselect user add {login}'\n")


def test_db_copy_into_a_database_whose_owner_is_no_user_installs_the_rules_and_continues_the_ids(cli, tmp_path):
    """The README's copy: an administrator's login owns the database but is no user of the agency in the file.
    Row security does not hide the copied rows from the owner (the ids continue past them), and the file's
    users' logins hold their rights at once."""
    import psycopg

    from salesselect_cli.sql import pg_security
    from tests.conftest import login_url, pg_cluster

    cluster = pg_cluster()
    admin_login = "leak_copy_admin"
    _login(cluster.admin, admin_login, createrole=True)
    source = tmp_path / "agency.db"
    with _owned_database(cluster, admin_login) as database:
        assert cli("--db", str(source), "init", "--demo", env={"SALESSELECT_USER": "anna"}).exit_code == 0
        copied = cli("db", "copy", str(source), cluster.url_for(database, admin_login))
        assert copied.exit_code == 0, copied.stderr
        url = login_url(cluster.url_for(database), "anna")
        before = cli("--db", url, "opp", "show", "1", "--format", "json", env={"SALESSELECT_USER": "anna"}).json()
        noted = cli("--db", url, "opp", "edit", "1", "--note", "after the copy", env={"SALESSELECT_USER": "anna"})
        assert noted.exit_code == 0, noted.stderr
        after = cli("--db", url, "opp", "show", "1", "--format", "json", env={"SALESSELECT_USER": "anna"}).json()
        assert after["history"][:-1] == before["history"] and after["history"][-1]["to_value"] == "after the copy"
        with psycopg.connect(cluster.url_for(database), autocommit=True) as admin:
            groups = {r[0] for r in admin.execute(
                "SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
                "JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = 'anna'")}
            assert pg_security.group_role(database, "keyuser") in groups
            assert admin.execute("SELECT bool_and(relrowsecurity) FROM pg_class WHERE relkind = 'r' "
                                 "AND relnamespace = 'public'::regnamespace").fetchone() == (True,)


def test_a_member_cannot_hide_a_change_behind_a_workflow(secured):
    """salesselect.workflow names an enabled workflow only for what a workflow's action does (a follow-up, a
    note, an owner); a value or stage change made under it still names the login."""
    with secured.connect(RITA) as conn:
        conn.execute("SET salesselect.workflow = 'nudge'")
        deal = conn.execute("SELECT min(id) FROM opportunities WHERE owner_id = salesselect_login_user()").fetchone()[0]
        conn.execute("UPDATE opportunities SET value_cents = 1 WHERE id = %s", [deal])
        conn.execute("SELECT salesselect_note(%s, 'from the workflow')", [deal])
        conn.execute("INSERT INTO followups (opportunity_id, due, text, user_id, created) "
                     "VALUES (%s, '2026-03-05', 'Call', salesselect_login_user(), '2026-03-02')", [deal])
    with secured.admin() as conn:
        rows = conn.execute("SELECT actor, field FROM history WHERE opportunity_id = %s ORDER BY id", [deal]).fetchall()
    assert rows == [(RITA, "value"), ("workflow:nudge", "note"), ("workflow:nudge", "followup")]
