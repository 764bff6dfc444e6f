"""Stand-in of Forge's modules_forge package."""
