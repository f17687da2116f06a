"""Local servers that answer in each provider's documented wire format, for the real clients."""
