"""Embedded SQLite plumbing shared by the registry's store and the orchestrator's state: opening a database file
with the project's settings (:mod:`.sqlite`) and bringing its schema up to date from numbered SQL files
(:mod:`.migrations`).

It knows no table of either; each owner brings its migrations.
"""
