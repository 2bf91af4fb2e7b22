"""funnelhouse ingest."""
