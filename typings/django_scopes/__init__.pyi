# Type stubs for django-scopes (the package ships none). Only what uku uses.
#
# At run time `ScopedManager(...)` returns an instance of a class it builds on the fly, which
# mypy and the django-stubs plugin cannot see; `ScopedManagerType` names that class for type
# checking only (it does not exist at run time: import it under `if TYPE_CHECKING:`), so a model
# declares `objects: ClassVar[ScopedManagerType[Membership]] = ScopedManager(company="company")`.
from contextlib import AbstractContextManager
from typing import Any, Self, TypeVar, overload

from django.db import models

_T = TypeVar("_T", bound=models.Model)

class ScopeError(Exception): ...

class ScopedManagerType(models.Manager[_T]):
    def with_scope(self, **scope: Any) -> Self: ...
    def with_scopes_disabled(self) -> Self: ...

@overload
def ScopedManager(**scopes: str) -> ScopedManagerType[Any]: ...

# The result subclasses both `_manager_class` and the scoped manager; typing has no intersection
# type, so this returns Any and the model annotates its `objects` (see clients.models.Client).
@overload
def ScopedManager(_manager_class: type[models.Manager[Any]], **scopes: str) -> Any: ...
def scope(**scope: Any) -> AbstractContextManager[None]: ...
def scopes_disabled() -> AbstractContextManager[None]: ...
def get_scope() -> dict[str, Any]: ...
