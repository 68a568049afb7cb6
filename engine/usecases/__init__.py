"""One function per use case, `(cmd, *, svc, clock)`: the only code that commits."""
