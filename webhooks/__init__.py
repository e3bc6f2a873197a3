"""HTTP ingress: verify, parse, dedupe, route, enqueue. Nothing here calls GitHub or a model."""
