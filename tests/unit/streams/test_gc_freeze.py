"""Startup objects are frozen once, after the first assignment; so is what survives each full
collection after that, and frozen objects are still freed by their last reference."""

import gc

from streams.app import GC_THRESHOLDS, app, freeze_startup_objects, freeze_survivors


async def test_the_first_rebalance_freezes_startup_objects_once():
    gc.unfreeze()
    try:
        assert freeze_startup_objects in app.on_rebalance_complete.iter_receivers(app)
        await freeze_startup_objects(app)
        frozen = gc.get_freeze_count()
        assert frozen > 0
        assert gc.callbacks.count(freeze_survivors) == 1
        keep = [[n] for n in range(1000)]  # made later: stays collectable
        await freeze_startup_objects(app)
        assert gc.get_freeze_count() == frozen
        assert gc.callbacks.count(freeze_survivors) == 1
        assert keep
    finally:
        while freeze_survivors in gc.callbacks:
            gc.callbacks.remove(freeze_survivors)
        gc.unfreeze()


def test_survivors_of_a_full_collection_are_frozen_and_still_freed_by_refcount():
    gc.unfreeze()
    gc.callbacks.append(freeze_survivors)
    try:
        table = {f"id-{n}": [n, "topic"] for n in range(5000)}  # like a table's entries
        gc.collect(1)  # a younger collection freezes nothing
        assert gc.get_freeze_count() == 0
        gc.collect(2)
        frozen = gc.get_freeze_count()
        assert frozen >= len(table)
        del table  # no cycle: its entries go with their last reference, frozen or not
        assert gc.get_freeze_count() <= frozen - 5000
    finally:
        gc.callbacks.remove(freeze_survivors)
        gc.unfreeze()


async def test_the_first_rebalance_raises_the_young_generation_threshold():
    before = gc.get_threshold()
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)  # Python's default
    try:
        await freeze_startup_objects(app)
        assert gc.get_threshold() == GC_THRESHOLDS
        assert GC_THRESHOLDS[0] > 700  # noqa: PLR2004 - collected less often than by default
    finally:
        while freeze_survivors in gc.callbacks:
            gc.callbacks.remove(freeze_survivors)
        gc.unfreeze()
        gc.set_threshold(*before)
