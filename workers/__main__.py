"""`python -m workers`: the same as `fixwurx worker`."""

from workers.start import worker

if __name__ == "__main__":
    worker()
