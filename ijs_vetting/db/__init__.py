"""The database: typed ORM models, engine/session set-up and Alembic migrations."""
