"""Local stand-ins for SaaS shops that cannot run here, served over real HTTP (one package per platform)."""
