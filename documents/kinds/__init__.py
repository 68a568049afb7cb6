"""One frozen dataclass per 文书, grouped by procedure stage (《卫生行政执法文书规范》; docs/documents.md)."""
