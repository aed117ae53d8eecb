"""Back-office views, one module per area. Thin: authorise, parse, call one service, respond."""
