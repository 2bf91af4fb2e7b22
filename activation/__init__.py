"""funnelhouse activation."""
