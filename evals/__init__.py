"""Quality evaluations, each a runnable module (`python -m evals.retrieval --help`)."""
