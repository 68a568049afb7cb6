"""One frozen dataclass per 文书, grouped by procedure stage (domain.md §4)."""
