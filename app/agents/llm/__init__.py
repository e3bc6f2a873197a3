"""Language-model providers behind one interface, with fallback, budgets and usage records."""
