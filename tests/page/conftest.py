"""pytest fixtures of the page tests; they live in `page_harness` (a unique
module name, so other test folders' conftest files cannot shadow it)."""

from page_harness import browser, page

__all__ = ["browser", "page"]
