"""End-to-end tests: the service, workers, scenarios and the demo as a whole."""
