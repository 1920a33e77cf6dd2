"""Escalation: fraud alerts and dangerous hazards reach responders, who acknowledge, or it climbs.

``policy`` says who hears about what and how fast; ``lifecycle`` is the pure state machine of
one escalation; ``agents`` and ``notifier`` put them on Kafka and on responders' webhooks.
"""

__all__: list[str] = []
