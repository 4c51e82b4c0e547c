"""The SQLite document store."""
