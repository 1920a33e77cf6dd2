"""Startup objects are frozen once, after the first assignment, out of full collections."""

import gc

from streams.app import app, freeze_startup_objects


async def test_the_first_rebalance_freezes_startup_objects_once():
    gc.unfreeze()
    try:
        assert freeze_startup_objects in app.on_rebalance_complete.iter_receivers(app)
        await freeze_startup_objects(app)
        frozen = gc.get_freeze_count()
        assert frozen > 0
        keep = [object() for _ in range(1000)]  # made later: stays collectable
        await freeze_startup_objects(app)
        assert gc.get_freeze_count() == frozen
        assert keep
    finally:
        gc.unfreeze()
