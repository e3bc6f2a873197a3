"""Onboarding: `fixwurx setup` (GitHub's App manifest flow) and `fixwurx forward` (webhooks to
a laptop through a smee.io-compatible channel)."""
