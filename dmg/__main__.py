"""``python -m dmg`` runs the ``dmg`` command."""

from dmg.cli.main import main

main()
