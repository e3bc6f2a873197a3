from launch.clock import countdown


def announce(start: int) -> str:
    return " ".join(str(n) for n in countdown(start)) + " liftoff"
