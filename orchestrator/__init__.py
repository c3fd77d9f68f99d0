"""The DMG orchestrator: installs function modules from a registry and runs them under the capabilities its
operator grants.

- :mod:`orchestrator.core`: the :class:`~orchestrator.core.Orchestrator` (install, life cycle, invocations, restart);
- :mod:`orchestrator.install` (planning: resolution, verification), :mod:`orchestrator.policy` (what a module may
  be granted), :mod:`orchestrator.lifecycle` (states), :mod:`orchestrator.state` (SQLite), :mod:`orchestrator.cache`
  (bundle blocks);
- :mod:`orchestrator.runtimes`: the runtime protocol and the runtime-neutral grants, limits and contexts;
  :mod:`orchestrator.runtimes.wasi`: the WASI runtime; :mod:`orchestrator.service`: the control API and metrics;
  :mod:`orchestrator.client`: its client.

It reaches registries only through the DMG client. Triggers and agents come next.
"""
