"""Write a new migration by diffing the tables against a database at head.

Usage (developers): ``python -m modelward.db.revision "what changed"``
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path


def main(message: str) -> None:
    from alembic import command

    from modelward.db.engine import make_engine
    from modelward.db.migrate import alembic_config

    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'head.db'}")
        cfg = alembic_config(engine)
        command.upgrade(cfg, "head")
        command.revision(cfg, message=message, autogenerate=True, rev_id=_next_id())
        engine.dispose()


def _next_id() -> str:
    versions = Path(__file__).parent / "migrations" / "versions"
    return f"{len(list(versions.glob('*.py'))) + 1:04d}"


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "schema change")
