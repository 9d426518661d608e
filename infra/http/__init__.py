"""What every HTTP route shares: LUNA's error body, request ids, query parsing, access checks."""
