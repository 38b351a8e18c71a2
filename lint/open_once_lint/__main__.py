"""`python -m open_once_lint PATH...`: the same as the `open-once-lint` command."""

import sys

from open_once_lint.cli import main

sys.exit(main())
