"""Settings read from ``FUNNELHOUSE_<FIELD>`` environment variables, shared by every part.

A pydantic model subclasses ``EnvSettings``; ``from_env()`` reads the variables of its fields
and reports a bad value with the variable's name (a secret's value is never shown).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Self

from pydantic import BaseModel, ValidationError

from ingest.home import HOME_ENV

PREFIX = "FUNNELHOUSE_"
_SECRET_WORDS = ("secret", "password", "token")


class SettingsError(ValueError):
    pass


def variable(field: str) -> str:
    """The environment variable of a settings field (``home`` is ``FUNNELHOUSE_HOME``)."""
    return HOME_ENV if field == "home" else PREFIX + field.upper()


class EnvSettings(BaseModel):
    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        environ = os.environ if environ is None else environ
        values = {
            name: environ[variable(name)]
            for name in cls.model_fields
            if environ.get(variable(name), "").strip()
        }
        try:
            return cls(**values)
        except ValidationError as error:
            problems = "; ".join(
                f"{variable(name)}{_shown(name, values)}: {e['msg']}"
                for e in error.errors()
                for name in [str(e["loc"][0]) if e["loc"] else ""]
            )
            raise SettingsError(f"bad environment setting: {problems}") from None


def _shown(name: str, values: Mapping[str, str]) -> str:
    if name not in values:
        return ""
    return "=<hidden>" if any(w in name for w in _SECRET_WORDS) else f"={values[name]!r}"
