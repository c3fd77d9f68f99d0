"""HTTP-service plumbing shared by the registry service (:mod:`dmg.service`) and the orchestrator service
(:mod:`orchestrator.service`): layered settings (:mod:`.settings`), the uvicorn runner (:mod:`.server`), REST error
responses and the body-size limit (:mod:`.responses`, :mod:`.limits`), request metrics (:mod:`.metrics`), GraphQL
error codes and the view that applies them (:mod:`.graphql`), and the app skeleton both build on (:mod:`.app`).

Nothing here knows about registries or orchestrators; each service brings its own settings fields, routes, schema
and the object its app opens on start.
"""
