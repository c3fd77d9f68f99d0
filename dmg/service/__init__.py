"""The registry service: a Starlette app serving GraphQL, IPFS-style blocks and REST writes over one registry.

The service is thin. It turns HTTP and GraphQL into calls on :class:`dmg.registry.Registry` (which verifies
everything) and answers with what the registry says; errors keep their :class:`~dmg.core.errors.DmgError` code
on the way out. :func:`dmg.service.app.create_app` builds the app from :class:`dmg.service.settings.Settings`.
"""
