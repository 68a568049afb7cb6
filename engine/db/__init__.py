"""The only package that imports SQLAlchemy: tables, the unit of work, queries, migrations."""
