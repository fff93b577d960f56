"""Sharing: the change feed other departments follow (``GET /api/v1/changes``).

The feed is a scoped, read-only window on the change stream (``core.changes``): the kinds
listed in :data:`firegrid.sharing.feed.FEED_KINDS`, each change carrying the jurisdiction
path of its row, so a caller sees only the changes inside its scope.
"""
