"""Live-reload tests (docs/reload.md). A package, so that its conftest does not
take the module name `conftest` that tests/http imports from."""
