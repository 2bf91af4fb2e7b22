"""funnelhouse dashboards."""
