"""Federation's commands of the ``dmg`` command line (``dmg peer ...``, ``dmg sync``), found through the
``dmg.commands`` entry points. Modules here are light at import; the registry and the client load inside the
commands that need them.
"""
