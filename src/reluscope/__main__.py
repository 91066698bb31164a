import sys

from reluscope.cli import main

sys.exit(main())
