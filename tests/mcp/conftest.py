"""pytest fixtures of the MCP tests; the harness itself is `mcp_harness`
(a unique module name, so other test folders' conftest files cannot shadow
it)."""

from mcp_harness import project

__all__ = ["project"]
