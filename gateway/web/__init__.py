"""The web console for billing staff (``gateway web``): Starlette, Jinja2 templates and htmx.

Modules:

- ``application``: ``app(settings)``, the ASGI app (middleware, static files, the pages);
  ``ledger_of(request)`` for pages.
- ``auth``: sessions read back into a ``WebUser``, the idle limit, ``require(request, Role.X)``.
- ``security``: security headers, CSRF (asgi-csrf), the session key; ``passwords`` (argon2);
  ``ratelimit`` (login attempts, ``limits``).
- ``templating``: ``render(request, "page.html", {...})``; the base layout and navigation.
- ``auditing``: ``audited(request, action, claim_id=...)`` on every claim view and change.
- ``pages``: one module per page, each with ``ROUTES``.
- ``server``: the bind rules and uvicorn.

Static files (htmx, its SSE extension, the stylesheet) are shipped in ``static/``: no CDN.
"""
