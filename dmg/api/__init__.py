"""The registry's wire contract, shared by the registry service and every client: what the answers are
(:mod:`.results`), where they are asked for (:mod:`.paths`) and in which media types (:mod:`.media`).

Nothing here talks to a network or a store; the service (:mod:`dmg.service`) serves this contract and the clients
(:mod:`dmg.client`) speak it, so neither needs the other's modules.
"""
