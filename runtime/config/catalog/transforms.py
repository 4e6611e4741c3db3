"""Transform types (configuration-transforms-*.rst; spec §13)."""

from __future__ import annotations

from runtime.config.catalog.base import BOOL, DICT, INT, LIST, STR, STRS, kind, p
from runtime.config.catalog.pipe import TRACE

COMMON = (p("type", STR, req=True), p("comment", STRS), p("name", STR),
          p("side_effects", BOOL, False))
_TRIGGER = p("trigger_on", DICT)


def _tr(name, *props, base=COMMON, **kw):
    return kind("transform", name, *props, base=base, **kw)


_REST_COMMON = (
    p("system", STR, req=True), p("side_effects", BOOL, True),
    p("operation", STR), p("operations", DICT), p("properties", DICT),
    p("payload", STR | DICT | LIST), p("payload_property", STR),
    p("response_property", STR, "response"), p("response_headers_property", STR),
    p("response_status_property", STR), p("replace_entity", BOOL, False),
    p("response_include_content_type", BOOL, False),
    p("id_expression", STR), p("updated_expression", STR),
    p("allowed_status_codes", STR, "200-299"), p("ignored_status_codes", STR),
    p("if_transform_empty", STR, "accept", enum=("accept", "fail")),
    p("rate_limiting_retries", INT), p("rate_limiting_delay", INT, 1), *TRACE, _TRIGGER,
)

TRANSFORMS = {k.name: k for k in (
    _tr("dtl", p("rules", DICT, req=True, opaque=True), p("id_required", BOOL, True),
        p("trigger_on.key", STR, "_trigger"), p("trigger_on.value", STR)),
    _tr("conditional", p("condition", STR, req=True), p("alternatives", DICT, req=True),
        base=(p("type", STR, req=True), p("comment", STRS))),
    _tr("emit_children"),
    _tr("json_schema", p("schema", DICT, opaque=True), p("schema_url", STR), p("system", STR),
        p("key_valid", STR, "valid"), p("key_errors", STR, "errors"), _TRIGGER,
        one_of=(("schema", "schema_url"),), priority="P2"),
    _tr("http", p("system", STR, req=True), p("url", STR | DICT, req=True),
        p("batch_size", INT, 100, min=1), p("headers", DICT), p("side_effects", BOOL, True),
        _TRIGGER, priority="P3", system_kinds=("url", "microservice")),
    _tr("rest", *_REST_COMMON, priority="P3", system_kinds=("rest",)),
    _tr("template", p("template", STR | DICT, opaque=True), p("properties", DICT),
        p("rest_system", STR), p("primary_key", STRS), p("primary_key_insert", STRS),
        p("is_natural_key", BOOL, False), p("share_dataset", STR),
        p("payload_property", STR, "payload"), p("original_property", STR),
        p("operation", STR), p("operation_properties", DICT),
        *(p(f"operation_{op}", STR) for op in ("lookup", "insert", "update", "delete",
                                               "lookup_delete")),
        *(p(f"operation_{op}_properties", DICT) for op in ("lookup", "insert", "update",
                                                           "delete", "lookup_delete")),
        *(p(f"{op}_allowed_status_codes", STR, "100-599") for op in ("lookup", "insert",
                                                                     "update", "delete")),
        p("rules", DICT, opaque=True), p("rewrite_rules_payload", DICT, opaque=True),
        p("rewrite_rules_lookup", DICT, opaque=True),
        p("rewrite_rules_mutation", DICT, opaque=True),
        p("client_side_patching", BOOL, False), p("$payload", DICT, opaque=True),
        priority="P3"),
    _tr("xml", p("xml-property", STR, req=True), p("root-attributes", DICT),
        p("include-xml-decl", BOOL, False), p("skip-deleted-entities", BOOL, True), _TRIGGER,
        priority="P3"),
    _tr("rdf", p("rdf-property", STR, req=True), priority="P3"),
)}
