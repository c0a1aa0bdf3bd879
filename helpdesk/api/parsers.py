"""Request parsing that refuses hostile shapes with a 400 instead of crashing the view."""

from rest_framework import parsers
from rest_framework.exceptions import ParseError

# No request body of this API nests deeper than 2; 32 leaves room for clients that wrap, and keeps every
# later recursive walk (validation, error rendering) far from Python's recursion limit.
MAX_JSON_DEPTH = 32


def _depth_exceeds(data, limit: int) -> bool:
    stack = [(data, 1)]
    while stack:  # iterative on purpose: the point is never to recurse over untrusted input
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > limit:
                return True
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children)
    return False


class BoundedJSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:  # the decoder itself gives up near 1,000 levels
            raise ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.") from None
        if _depth_exceeds(data, MAX_JSON_DEPTH):
            raise ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.")
        return data
