"""gridwatch's stream processing: the Faust app, its agents and the command-line tools.

Importing this package does not build the Faust app; ``streams.app`` does, on first import.
"""

__all__: list[str] = []
