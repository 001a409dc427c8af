"""The admin site: every ModelAdmin registered on it refuses changelist filters that reach a secret.

Django lets a changelist filter on any local field and through one relation (`?auth_token__key__startswith=7c`
on users: the token's key is its primary key), so anyone who may view a list could recover a password hash
or an API token a few characters per request. The rule lives here once and is mixed into every admin
registered on the site (ours, Django's Group, DRF's tokens), so a new admin cannot forget it."""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig
from django.core import checks
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Field, Model
from django.db.models.constants import LOOKUP_SEP

# (app label, model name, field name) of the concrete models; a relation to one of these rows is compared
# by its primary key, so a relation to a token is as secret as the token's key.
SECRET_FIELDS = frozenset(
    {
        ("users", "user", "password"),
        ("authtoken", "token", "key"),
        ("sessions", "session", "session_key"),
        ("sessions", "session", "session_data"),
    }
)


def is_secret(field: Field) -> bool:
    model = getattr(field, "model", None)
    if model is None or not hasattr(field, "name"):
        return False
    opts = model._meta.concrete_model._meta
    return (opts.app_label, opts.model_name, field.name) in SECRET_FIELDS


def reaches_secret(model: type[Model], lookup: str) -> bool:
    """Whether a filter such as `user__auth_token__key__startswith` compares a secret field, directly, through
    `pk`, or by ending on a relation whose rows are compared by a secret primary key (`auth_token__gt`)."""
    opts, field = model._meta, None
    for part in lookup.split(LOOKUP_SEP):
        try:
            field = opts.pk if part == "pk" else opts.get_field(part)
        except FieldDoesNotExist:
            break  # the rest are lookups or transforms
        if is_secret(field):
            return True
        if not field.is_relation or field.related_model is None:
            return False  # a plain field: what follows transforms its value
        opts = field.related_model._meta
    return field is not None and field.is_relation and field.related_model is not None and is_secret(opts.pk)


def _declared_lookups(model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
    """The lookups an admin declares for its search box, filters, ordering and date hierarchy."""
    found = [("search_fields", name.lstrip("^=@")) for name in model_admin.search_fields or ()]
    for item in model_admin.list_filter or ():
        if isinstance(item, str):
            found.append(("list_filter", item))
        elif isinstance(item, (list, tuple)):
            found.append(("list_filter", item[0]))
    found += [("ordering", name.lstrip("-")) for name in model_admin.ordering or () if isinstance(name, str)]
    if model_admin.date_hierarchy:
        found.append(("date_hierarchy", model_admin.date_hierarchy))
    return found


class SecretLookupsRefused:
    """Mixed into every ModelAdmin of the site: a filter reaching a secret is a 400 (Django raises
    DisallowedModelAdminLookup when lookup_allowed says no), and an admin that declares one (the search box
    included) fails Django's system checks."""

    def lookup_allowed(self, lookup, value, request=None):
        if reaches_secret(self.model, lookup):
            return False
        return super().lookup_allowed(lookup, value, request)

    def check(self, **kwargs):
        errors = super().check(**kwargs)
        for option, lookup in _declared_lookups(self):
            if reaches_secret(self.model, lookup):
                errors.append(
                    checks.Error(
                        f"{option} of {type(self).__name__} reaches a secret field: {lookup!r}.",
                        obj=type(self),
                        id="order_project.E001",
                    )
                )
        return errors


class AdminSite(admin.AdminSite):
    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, SecretLookupsRefused):
            attrs = {"__module__": admin_class.__module__, "__doc__": admin_class.__doc__}
            admin_class = type(admin_class.__name__, (SecretLookupsRefused, admin_class), attrs)
        super().register(model_or_iterable, admin_class, **options)


class AdminConfig(DjangoAdminConfig):
    default_site = "order_project.admin_site.AdminSite"
