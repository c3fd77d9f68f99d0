"""The GraphQL API at ``/graphql``: schema (:mod:`.schema`), output types (:mod:`.types`), operation limits
(:mod:`.limits`), and the ASGI view (:mod:`.view`); error codes are :mod:`dmg.http.graphql`'s."""
