"""Model-backed candidate sources and their support: providers, analyst, reproduction tests,
explainer, memory, budget, safety."""
