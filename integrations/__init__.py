"""Outside systems behind small interfaces: financial system, project control, transparency
publisher (OCDS), announcement portal, SMS outbox, contractor registry. Stubs in `stubs/`."""
