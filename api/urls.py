from django.http import JsonResponse
from django.urls import path, re_path, register_converter
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from golden.domains import DOMAINS

from . import changes, lookup, probe, reviews, search, sources, stewardship, views


class DomainConverter:
    """Only declared domains match: /api/v1/planet/... is a plain 404."""

    # A group, so that the OpenAPI pattern ^(?:a|b)$ names exactly the domains.
    regex = "(?:" + "|".join(DOMAINS) + ")"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(DomainConverter, "domain")


@csrf_exempt
def no_such_endpoint(request, rest: str = "") -> JsonResponse:
    """Any other path under the API (an undeclared domain included): a JSON 404 like
    every other error of the API, whatever the method."""
    return JsonResponse({"detail": "no such endpoint", "code": "not_found"}, status=404)


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
    path("<domain:domain>/golden", search.GoldenSearchView.as_view(), name="golden-search"),
    path("<domain:domain>/match", probe.MatchProbeView.as_view(), name="match-probe"),
    path("<domain:domain>/reviews", reviews.ReviewListView.as_view(), name="review-list"),
    path(
        "<domain:domain>/reviews/<int:item_id>/decision",
        reviews.ReviewDecisionView.as_view(),
        name="review-decision",
    ),
    path(
        "<domain:domain>/golden/<str:global_id>/merge",
        stewardship.MergeView.as_view(),
        name="golden-merge",
    ),
    path(
        "<domain:domain>/golden/<str:global_id>/unmerge",
        stewardship.UnmergeView.as_view(),
        name="golden-unmerge",
    ),
    path(
        "<domain:domain>/golden/<str:global_id>/split",
        stewardship.SplitView.as_view(),
        name="golden-split",
    ),
    path(
        "<domain:domain>/golden/<str:global_id>/overrides/<str:attribute>",
        stewardship.OverrideView.as_view(),
        name="golden-override",
    ),
    # Last: whatever no pattern above matched.
    re_path(r"^(?P<rest>[\s\S]*)\Z", no_such_endpoint, name="not-found"),
]
