"""The control API at ``/graphql``: output types (:mod:`.types`), the schema (:mod:`.schema`) and the ASGI view
(:mod:`.view`)."""
