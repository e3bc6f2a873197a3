"""Fix templates: the offline candidate source that needs no language model.

`TemplateSource().propose(context)` walks the ranked locations and asks each template family
for mutations of the statement at that line. Candidates come out lazily, best first, ranked by
suspiciousness x family prior x the mutation's own weight, deduplicated on normalized code.
"""

from app.repair.templates.engine import FAMILIES, TemplateSource

__all__ = ["FAMILIES", "TemplateSource"]
