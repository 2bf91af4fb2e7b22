"""funnelhouse pipelines."""
