"""The SDK: one ``Client`` over an in-process or HTTP transport."""

from modelward.client.client import Client

__all__ = ["Client"]
