"""PostgreSQL: pool, migrations, named SQL queries, error translation, LISTEN, embedded server."""
