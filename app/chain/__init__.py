"""The planner-led chain: run state, lineage, and the stages.

reproduce -> localize -> patch -> bundle.
"""
