"""The orchestrator service: a Starlette app (:mod:`.app`) with its control API (GraphQL, :mod:`.graphql`),
Prometheus metrics (:mod:`.metrics`), settings (:mod:`.settings`) and a server runner (:mod:`.server`)."""
