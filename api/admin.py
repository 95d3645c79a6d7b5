"""Admin for API keys: create one (the key is shown once), see when it was used, revoke."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.models import Group

from golden.models import SourceSystem

from .keys import ApiKeyError, create_api_key, revoke_api_key
from .models import ApiKey


class NewApiKeyForm(forms.ModelForm):
    expires_days = forms.IntegerField(
        required=False, min_value=1, help_text="valid for this many days (empty: no expiry)"
    )

    class Meta:
        model = ApiKey
        fields = ["system", "name", "role"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["prefix", "system", "name", "role", "status", "expires_at", "last_used_at"]
    list_filter = ["system", "role"]
    search_fields = ["prefix", "name", "system__code"]
    readonly_fields = [
        "prefix",
        "system",
        "name",
        "role",
        "user",
        "created_by",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
    ]
    actions = ["revoke"]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = NewApiKeyForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["system", "name", "role", "expires_days"]
        return self.readonly_fields

    def has_change_permission(self, request, obj=None):
        return False if obj is not None else super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        try:
            key, plain = create_api_key(
                data["system"],
                role=data["role"].name if data.get("role") else None,
                expires_days=data.get("expires_days"),
                name=data.get("name", ""),
                created_by=request.user,
            )
        except ApiKeyError as error:
            messages.error(request, str(error))
            return
        obj.pk = key.pk
        messages.warning(
            request,
            f"API key for {key.system.code}: {plain} — copy it now, it cannot be shown again.",
        )

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request, queryset):
        for key in queryset.select_related("user", "system"):
            revoke_api_key(key)
        messages.success(request, f"{queryset.count()} key(s) revoked.")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "system":
            kwargs["queryset"] = SourceSystem.objects.order_by("code")
        if db_field.name == "role":
            kwargs["queryset"] = Group.objects.order_by("name")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
