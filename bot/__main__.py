"""`python -m bot` runs the same CLI as the `storywatch` console script."""

from bot.cli import main

raise SystemExit(main())
