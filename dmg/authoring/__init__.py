"""What a publisher's side of DMG builds: reading a ``dmg.yml`` manifest (:mod:`.manifest`), signing records and
log entries into submissions (:mod:`.publisher`), and the sample modules a new registry is seeded with
(:mod:`.samples`). Nothing here talks to a network; the client sends what these build.
"""
