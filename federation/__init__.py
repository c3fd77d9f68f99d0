"""Federation: registries that mirror each other's namespaces, each namespace with exactly one home.

- :mod:`.peers`: a peer (name, URL, the namespace patterns routed to it, mirror or pull-through) and its status;
- :mod:`.routes`: which peer a namespace is routed to, and the write policies that follow (no local claims of a
  routed namespace; a peer's entries only for the namespaces it is home for);
- :mod:`.state`: what this registry remembers about its peers and their logs (``<data>/federation.sqlite3``);
- :mod:`.homelog`: a peer's transparency log as verified here, served so clients check mirrored entries against it;
- :mod:`.sync`: pulling a peer's log, verified as a client would, committed atomically, resumable;
- :mod:`.extension`: how a registry opened on a data directory with peers gets routes, pull-through and mirrors;
- :mod:`.service`: continuous sync and the peer admin API inside ``dmg serve``; :mod:`.cli`: ``dmg peer``,
  ``dmg sync``.

It uses the verifying client, the registry and its store; never the CLI's core or the orchestrator. See
``docs/federation.md``.
"""
