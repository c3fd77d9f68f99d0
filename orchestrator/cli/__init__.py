"""The orchestrator's commands of the ``dmg`` command line, which ``dmg`` finds through entry points.

``pyproject.toml`` registers them in the group ``dmg.commands``: ``fn`` (:mod:`orchestrator.cli.fn`, driving an
orchestrator through its control API) and ``orchestrator`` (:mod:`orchestrator.cli.serve`, running one). ``dmg``
itself imports nothing of the orchestrator; it lists these names and imports a module only to run or describe its
command, so each module here is light at import and loads the orchestrator, its client or its service inside the
command that needs them.
"""
