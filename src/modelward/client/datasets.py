"""SDK verbs: datasets."""

from __future__ import annotations

from modelward.client.base import ClientBase


class DatasetsAPI(ClientBase):
    pass
