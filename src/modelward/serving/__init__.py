"""Online serving: traffic plans, the gateway, prediction logging and canary analysis."""
