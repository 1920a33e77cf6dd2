"""Peers for ``gridwatch bench throughput``: gridwatch's per-report work without Faust.

    work.py        the per-report work, gridwatch's own calls fused into one function
    plain_loop.py  a plain aiokafka consume-process-produce loop (the practical limit)
    quix.py        the same work on Quix Streams (the peer a Python team would pick)
    faust_core.py  the real worker less its escalation agents (the same work as the peers)
    progress.py    how a peer process is configured and reports how far it got
    verify.py      how the bench checks that every variant did all the work

Modules are imported by path, not from here: ``quix.py`` needs the optional ``bench`` extra.
"""

__all__: list[str] = []
