"""The video manager's REST routes, one module per LUNA API tag."""
