"""Types of the tokenizer's C hot path (gateway/x12/_speedups.c)."""

from gateway.x12.segment import Segment, Span

def split_regular(
    text: str, joined: str, sep: str, span: Span, segment_type: type[Segment], /
) -> tuple[list[Segment], int, bool, int]: ...
