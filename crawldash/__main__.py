"""`python -m crawldash`."""

import sys

from crawldash.cli import main

sys.exit(main())
