"""PySide6 widgets. Thin over hexdesk.service; never touches storage tables."""
