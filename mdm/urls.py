from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Master data administration"
admin.site.site_title = "MDM"
admin.site.index_title = "Golden records, cross-references and sources"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("api.urls")),
]
