"""Alert channels: the fired alerts to Slack (webhook or Web API), PagerDuty, e-mail and webhooks, with their
life across runs. lifecycle.py (pure: what to send now), messages.py (pure: what each kind is sent),
senders.py (thin: one per kind), routing.py (which names are configured), sink.py (the AlertsSink)."""
