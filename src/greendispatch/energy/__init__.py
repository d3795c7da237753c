"""Energy layer: facility load and each hub's supply stack (own green, battery, grid)."""
