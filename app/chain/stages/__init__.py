"""The chain's stages. Each takes the run state and returns a typed result."""
