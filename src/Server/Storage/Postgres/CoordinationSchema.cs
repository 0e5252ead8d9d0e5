namespace PythOn.Server.Storage.Postgres;

/// <summary>The tables replicas coordinate through (run places, ZK attempts, install locks).</summary>
internal static class CoordinationSchema
{
    public const string Create = """
        CREATE TABLE run_places (
            id          uuid PRIMARY KEY,
            user_id     text NOT NULL,
            replica     text NOT NULL,
            expires_at  timestamptz NOT NULL
        );
        CREATE INDEX run_places_user ON run_places (user_id);
        CREATE INDEX run_places_replica ON run_places (replica);

        CREATE TABLE zk_attempts (
            id          uuid NOT NULL,
            budget_key  text NOT NULL,
            failed      boolean NOT NULL DEFAULT false,
            at          timestamptz NOT NULL,
            expires_at  timestamptz,
            PRIMARY KEY (id, budget_key)
        );
        CREATE INDEX zk_attempts_budget ON zk_attempts (budget_key, at);

        CREATE TABLE package_install_locks (
            user_id   text NOT NULL,
            language  text NOT NULL,
            PRIMARY KEY (user_id, language)
        );
        """;
}
