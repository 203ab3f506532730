"""``python -m cae_lessons.shapes model.keras --input HxW``: see :func:`cae_lessons.shapes.main`."""

from cae_lessons.shapes.cli import main

raise SystemExit(main())
