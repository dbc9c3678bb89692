"""Exit codes of one-shot commands (documented in README)."""

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_SKIPPED = 3  # finished, but some files were skipped
