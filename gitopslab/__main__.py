import sys

from gitopslab.cli import main

sys.exit(main())
