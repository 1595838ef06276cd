"""``python -m stswatch``: the same command line as the ``stswatch`` script."""

import sys

from stswatch.pipeline.cli import main

if __name__ == "__main__":
    sys.exit(main())
