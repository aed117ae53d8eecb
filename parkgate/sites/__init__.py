"""Site agents: a small box at a car park that keeps its gates working when the server is away."""
