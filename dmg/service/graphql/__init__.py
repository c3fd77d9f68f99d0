"""The GraphQL API at ``/graphql``: schema (:mod:`.schema`), output types (:mod:`.types`), operation limits and
error codes (:mod:`.limits`), and the ASGI view (:mod:`.view`)."""
