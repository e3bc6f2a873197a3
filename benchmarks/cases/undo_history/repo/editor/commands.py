from editor.buffer import Buffer


def upper(buffer: Buffer) -> None:
    buffer.replace(buffer.text.upper())
