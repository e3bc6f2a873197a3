from signals.scale import normalize


def weights(raw: dict[str, float]) -> dict[str, float]:
    names = sorted(raw)
    return dict(zip(names, normalize([raw[n] for n in names])))
