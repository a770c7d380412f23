"""The schema's dependencies run one way: processor → payouts → ledger, as the imports do."""

from django.db.migrations.loader import MigrationLoader

MONEY_APPS = ("processor", "payouts", "ledger")
# Which money apps each may depend on (the import contracts' order).
MAY_DEPEND_ON = {"ledger": set(), "payouts": {"ledger", "processor"}, "processor": {"ledger"}}


def money_app_dependencies() -> dict[tuple[str, str], set[tuple[str, str]]]:
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    return {
        key: {parent.key for parent in graph.node_map[key].parents}
        for key in graph.nodes
        if key[0] in MONEY_APPS
    }


def test_no_ledger_migration_depends_on_a_processor_or_payouts_migration():
    upward = {
        migration: sorted(parent for parent in parents if parent[0] in ("processor", "payouts"))
        for migration, parents in money_app_dependencies().items()
        if migration[0] == "ledger"
    }
    assert {migration: parents for migration, parents in upward.items() if parents} == {}


def test_each_money_app_depends_only_on_the_apps_below_it_and_never_in_a_cycle():
    app_edges = {
        (migration[0], parent[0])
        for migration, parents in money_app_dependencies().items()
        for parent in parents
        if parent[0] in MONEY_APPS and parent[0] != migration[0]
    }
    assert all(below in MAY_DEPEND_ON[app] for app, below in app_edges), sorted(app_edges)
    assert not any((below, app) in app_edges for app, below in app_edges)


def test_no_ledger_table_has_a_foreign_key_to_a_processor_or_payouts_table(db):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("""SELECT conrelid::regclass::text, conname, confrelid::regclass::text FROM pg_constraint
                           WHERE contype = 'f' AND conrelid::regclass::text LIKE 'ledger\\_%'
                             AND confrelid::regclass::text NOT LIKE 'ledger\\_%'
                             AND confrelid::regclass::text NOT LIKE 'auth\\_%'""")
        assert cursor.fetchall() == []
