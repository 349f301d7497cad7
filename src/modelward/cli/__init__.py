"""The ``modelward`` command: parse, call the client, render."""
