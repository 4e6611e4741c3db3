"""docs/service.md is generated from the app's OpenAPI document and must be current."""

from pathlib import Path

from runtime.service.reference import markdown


def test_service_reference_is_up_to_date():
    doc = Path(__file__).parent.parent.parent / "docs" / "service.md"
    assert doc.read_text() == markdown(), "run: python -m runtime.service.reference > docs/service.md"
