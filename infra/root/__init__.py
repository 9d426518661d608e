"""The composition root: every process's main, the API app, the embedded stack and the CLI.

It assembles components from the service packages; nothing imports it."""
