"""`python -m knowledge ingest|search|list|delete`: the knowledge base from the command line."""

import sys

from knowledge.cli import main

sys.exit(main())
