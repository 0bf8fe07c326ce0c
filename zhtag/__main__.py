"""`python -m zhtag ...`: the `zhtag` command, for where its script is not on PATH."""
import sys

from service.cli import main

sys.exit(main())
