"""`python -m zoo ...`: see `zoo.cli`."""

import sys

from zoo import cli

if __name__ == "__main__":
    sys.exit(cli.main())
