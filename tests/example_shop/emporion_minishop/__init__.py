"""emporion connector for minishop: a catalogue target and order source over minishop's REST API.

Installed as a package, it registers through the `emporion.connectors` entry point group:
`minishop = "emporion_minishop.plugin:PLUGIN"`.
"""
