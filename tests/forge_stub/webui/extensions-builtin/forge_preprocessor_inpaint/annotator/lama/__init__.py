"""Stand-in of Forge's annotator/lama (another portion of the `annotator` namespace)."""

OWNER = "Forge stand-in"
