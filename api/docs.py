"""The browsable docs: Swagger UI from drf-spectacular-sidecar's static files, no CDN.

The split view serves its start-up script as a file of its own (``?script``), so the page runs
under the site's CSP with no inline script; our template drops the package's inline <style>
(its three rules are in static/css/api-docs.css).
"""

from __future__ import annotations

from drf_spectacular.views import SpectacularSwaggerSplitView


class DocsView(SpectacularSwaggerSplitView):
    template_name = "api/docs.html"
    title = "Rapport API"
