"""Roles are ordered: each may do everything the ones below it may."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from modelward.errors import Forbidden, InvalidInput


class Role(IntEnum):
    viewer = 10
    developer = 20
    approver = 30
    admin = 40

    @classmethod
    def parse(cls, value: str) -> Role:
        try:
            return cls[value]
        except KeyError:
            names = ", ".join(r.name for r in cls)
            raise InvalidInput(
                f"unknown role {value!r}; choose one of {names}", field="role"
            ) from None


@dataclass(frozen=True)
class Principal:
    """Who is acting: the OS user when embedded, a token's owner on a server."""

    name: str
    role: Role

    def require(self, needed: Role, action: str) -> None:
        if self.role < needed:
            raise Forbidden(
                f"{self.name} has role {self.role.name}; {action} needs {needed.name} or above"
            )
