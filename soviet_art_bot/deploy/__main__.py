"""``python -m soviet_art_bot.deploy``, which lambda_deploy.sh runs."""

import sys

from .cli import main

sys.exit(main())
