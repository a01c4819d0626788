"""The one error type of rubric handling."""


class RubricError(ValueError):
    """A rubric file that does not follow the schema (the message names file, item and field)."""
