"""The DMG orchestrator: installs function modules and runs them under the capabilities its operator grants.

So far it holds the runtimes (:mod:`orchestrator.runtimes`); installing from registries, lifecycle, triggers and
agents come next. It reaches registries only through the DMG client.
"""
