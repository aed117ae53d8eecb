"""Developer tools: not part of the parkgate package (the wheel does not contain them)."""
