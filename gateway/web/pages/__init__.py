"""The console's pages: each module exposes ``ROUTES`` (a list of Starlette routes).

``gateway.web.application.page_routes`` collects them, so a new page is a new module. Every route
starts with ``require(request, Role...)`` (``gateway.web.auth``), renders through
``gateway.web.templating.render``, and puts claim views and changes on the audit trail
(``gateway.web.auditing.audited``).
"""
