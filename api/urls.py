from django.urls import path, register_converter
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from golden.domains import DOMAINS

from . import changes, lookup, sources, views


class DomainConverter:
    """Only declared domains match: /api/v1/planet/... is a plain 404."""

    regex = "|".join(DOMAINS)

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(DomainConverter, "domain")

app_name = "api"

urlpatterns = [
    path("health", views.health, name="health"),
    path("schema", SpectacularAPIView.as_view(), name="schema"),
    path("docs", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("redoc", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
    path("changes", changes.ChangeFeedView.as_view(), name="changes"),
    path("<domain:domain>/xref/lookup", lookup.LookupView.as_view(), name="xref-lookup"),
    path(
        "<domain:domain>/xref/<str:system>/<path:key>",
        lookup.XrefDetailView.as_view(),
        name="xref-detail",
    ),
    path(
        "<domain:domain>/golden/<str:global_id>",
        lookup.GoldenDetailView.as_view(),
        name="golden-detail",
    ),
    path(
        "<domain:domain>/sources/<str:system>/<path:key>",
        sources.SourceRecordView.as_view(),
        name="source-record",
    ),
]
