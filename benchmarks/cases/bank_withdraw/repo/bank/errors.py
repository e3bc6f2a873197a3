class InsufficientFunds(Exception):
    """Raised when a withdrawal exceeds the balance."""
