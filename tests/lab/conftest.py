def pytest_terminal_summary(terminalreporter):
    """After the JupyterLab run: where the screenshots are, and the notes (not failures)."""
    import sys

    mod = sys.modules.get("test_jupyterlab")
    if mod is None or not any("test_jupyterlab.py" in getattr(r, "nodeid", "")
                              for reports in terminalreporter.stats.values() for r in reports):
        return
    terminalreporter.write_line(f"JupyterLab student test: screenshots in {mod.SHOTS}")
    if mod.NOTES:
        terminalreporter.write_line("JupyterLab student test, notes (not failures):")
        for note in mod.NOTES:
            terminalreporter.write_line(f"  {note}")
