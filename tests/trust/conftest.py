"""pytest fixtures of the trust suite; the harness itself is `trust_harness`
(a unique module name, so other test folders' conftest files cannot shadow
it)."""

from trust_harness import accounts, advisory, guard, guarded

__all__ = ["accounts", "advisory", "guard", "guarded"]
