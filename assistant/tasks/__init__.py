"""The three jobs: grounded chat, contract review, code generation — generators of typed events."""
