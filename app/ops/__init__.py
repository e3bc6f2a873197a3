"""Running FixWurx: health, metrics, migrations, retention and delivery recovery.

Above the core (it reads runs and deliveries), below the flows: `health` (`/healthz`,
`/readyz`), `metrics` (the Prometheus series and `/metrics`), `migrate` (`fixwurx db`),
`retention` (pruning old bookkeeping rows), `recovery` (re-delivering lost webhooks).
"""
