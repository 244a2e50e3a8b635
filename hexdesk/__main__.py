"""``python -m hexdesk`` starts the app."""

import sys

from hexdesk.app import main

sys.exit(main())
