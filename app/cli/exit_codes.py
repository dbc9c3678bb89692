"""Exit codes of one-shot commands (documented in README)."""

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_SKIPPED = 3  # finished, but some files were skipped
EXIT_BROKEN_PIPE = 141  # the reader of stdout went away (128 + SIGPIPE), as `yes | head` does
