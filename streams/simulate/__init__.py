"""``gridwatch simulate``: realistic, labelled grid-report traffic for Ningbo's ten districts.

    geography  districts → streets → communities → grids (ids in the contract's format)
    rhythm     the simulated clock: hours, weekdays, campaign bursts
    texts      report texts from labelled fragments (the label is known by construction)
    faults     app retries and bad payloads, each with the dead-letter kind intake gives
    generator  all of it in sending order; truth  the summary tests compare with
    publish    to Kafka at a given rate;     cli  the subcommand

Seeded and reproducible: the same settings give the same bytes, labels and truth.
"""

from streams.simulate.generator import Message, SimConfig, Simulator

__all__ = ["Message", "SimConfig", "Simulator"]
