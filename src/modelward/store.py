"""The store: a database engine plus an artifact store, opened once per process."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from modelward.artifacts.store import ArtifactStore
from modelward.auth.roles import Principal
from modelward.config import StoreLocation
from modelward.db.engine import WRITE_OPTION, make_engine
from modelward.errors import ModelwardError
from modelward.uow import UnitOfWork


class Store:
    def __init__(self, location: StoreLocation, *, upgrade: bool = True) -> None:
        self.location = location
        try:
            self.engine = make_engine(location.db_url)
            self._write_engine = self.engine.execution_options(**{WRITE_OPTION: True})
            self.artifacts = ArtifactStore(location.artifact_root)
            if upgrade:
                from modelward.db.migrate import upgrade as run_upgrade

                run_upgrade(self.engine)
        except (OSError, SQLAlchemyError) as exc:
            if hasattr(self, "engine"):
                self.engine.dispose()
            reason = " ".join(str(getattr(exc, "orig", None) or exc).split())
            raise ModelwardError(
                f"cannot open the store at {_redacted(location.db_url)} "
                f"(artifacts {location.artifact_root}): {reason}",
                field="uri",
            ) from None

    @contextmanager
    def unit_of_work(self, principal: Principal, *, write: bool) -> Iterator[UnitOfWork]:
        """Commit on success, roll back on any error; writers are serialised."""
        bind = self._write_engine if write else self.engine
        writer = functools.partial(self.unit_of_work, principal, write=True)
        with Session(bind=bind, expire_on_commit=False, autoflush=False) as session:
            with session.begin():
                uow = UnitOfWork(session, self.artifacts, principal, writer)
                yield uow
        for task in uow.after_commit:
            task()

    def close(self) -> None:
        self.engine.dispose()


def _redacted(url: str) -> str:
    """The URL without its password, fit for an error message."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url
